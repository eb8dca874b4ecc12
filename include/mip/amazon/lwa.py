"""Login with Amazon (LWA): exchange a seller's consent code for a refresh token."""

from __future__ import annotations

from mip.amazon.credentials import token_client_class


class ConsentCodeRejected(Exception):
    pass


def exchange_consent_code(lwa_base_url: str, client_id: str, client_secret: str, code: str) -> str:
    """The refresh token for ``code`` (the ``spapi_oauth_code`` of the consent redirect).

    Amazon's codes are single-use and expire after five minutes.
    """
    from sp_api.auth.exceptions import AuthorizationError
    from sp_api.base.credential_provider import CredentialProvider

    credentials = CredentialProvider(credentials={"lwa_app_id": client_id, "lwa_client_secret": client_secret})
    client = token_client_class(lwa_base_url)(credentials=credentials.credentials)
    try:
        answer = client.authorize_auth_code(code)
    except AuthorizationError as exc:
        if exc.error_code == "invalid_client":
            raise ConsentCodeRejected(
                "Amazon refused the application's LWA client id/secret (invalid_client); fix them in the "
                "account's amazon_sp_api connection"
            ) from None
        raise ConsentCodeRejected(
            f"Amazon refused the consent code ({exc.error_code}: {exc.message}); codes are single-use and expire "
            "after 5 minutes: start the authorization again"
        ) from None
    return answer["refresh_token"]
