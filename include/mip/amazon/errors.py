"""Errors a user can act on, each with its fix. ``retryable`` says whether a retry can help.

Credential and configuration errors are not retryable: retrying a revoked refresh token only burns
retries and delays the alert. Throttling and Amazon outages are retryable.
"""

from __future__ import annotations

RESET_HINT = "see docs/accounts.md, 'Reset credentials'"


class AmazonError(Exception):
    """Base class: ``str(error)`` is the problem followed by the fix."""

    retryable = False
    code = "amazon_error"

    def __init__(self, problem: str, fix: str, *, account: str | None = None, details: str | None = None):
        self.problem, self.fix, self.account, self.details = problem, fix, account, details
        super().__init__(f"{problem}. Fix: {fix}")


class CredentialsInvalid(AmazonError):
    """The refresh token was revoked, expired (365 days) or never valid (LWA ``invalid_grant``)."""

    code = "credentials_invalid"

    def __init__(self, account: str, details: str | None = None):
        super().__init__(
            f"the Amazon authorization of account {account!r} is expired or revoked (LWA invalid_grant"
            f"{': ' + details if details else ''})",
            f"reset the credentials of account {account} ({RESET_HINT}): Multi-Channel > Marketplaces > "
            f"Reset credentials, or `mip credentials reset {account}`; then let the repair DAG backfill",
            account=account,
            details=details,
        )


class ApplicationCredentialsInvalid(AmazonError):
    """LWA ``invalid_client``: the app's client id or secret is wrong or was rotated."""

    code = "application_credentials_invalid"

    def __init__(self, account: str, details: str | None = None):
        super().__init__(
            f"Amazon refused the LWA client id/secret of account {account!r}'s connection (invalid_client)",
            "copy the LWA client id and the current client secret of your SP-API application (Seller Central > "
            "Develop Apps > View LWA credentials) into the account's amazon_sp_api connection",
            account=account,
            details=details,
        )


class SellerIdMismatch(AmazonError):
    code = "seller_id_mismatch"

    def __init__(self, account: str, seller_id: str, details: str | None = None):
        super().__init__(
            f"Seller ID {seller_id} of account {account!r} is wrong or is not the seller who authorized the "
            "refresh token",
            "check the Merchant Token in Seller Central (Settings > Account Info) and the topology's seller_id; "
            f"if the account changed, switch with `mip credentials reset {account} --seller-id NEW_ID` ({RESET_HINT})",
            account=account,
            details=details,
        )


class AccountNotAuthorized(AmazonError):
    code = "account_not_authorized"

    def __init__(self, account: str, details: str | None = None):
        super().__init__(
            f"the seller account of {account!r} is not authorized to sell in any marketplace",
            "finish the seller registration in Seller Central (identity verification, billing) or reactivate "
            "the account, then run mip_account_health again",
            account=account,
            details=details,
        )


class MarketplaceNotParticipating(AmazonError):
    code = "marketplace_not_participating"

    def __init__(self, account: str, country: str, details: str | None = None):
        super().__init__(
            f"account {account!r} does not participate in the {country} marketplace (the country is not created "
            "on Amazon for this seller)",
            f"add {country} in Seller Central (Settings > Account Info > Marketplaces / 'Sell globally'), or remove "
            "the channel from the topology",
            account=account,
            details=details,
        )


class InternationalListingNotConfigured(AmazonError):
    code = "international_listing_not_configured"

    def __init__(self, account: str, source: str, target: str, details: str | None = None):
        super().__init__(
            f"offers of {source} are not being copied to {target} for account {account!r}",
            f"configure Build International Listings in Seller Central (Pricing > Build International Listings) "
            f"with {source} as source and {target} as target; copies appear a few hours later",
            account=account,
            details=details,
        )


class InternationalSellerIdLikelyWrong(AmazonError):
    """BIL copied the main channel's offers to the main seller's own account in the channel's marketplace,
    while the channel is configured with another seller account, whose listings lack them."""

    code = "international_seller_id_likely_wrong"

    def __init__(
        self,
        channel: str,
        account: str,
        seller_id: str,
        main_account: str,
        main_seller_id: str,
        source: str,
        target: str,
        details: str | None = None,
    ):
        super().__init__(
            f"the Seller ID of channel {channel} is likely wrong: Amazon copies the offers of {source} to {target} "
            f"under the main channel's Seller ID {main_seller_id} (account {main_account!r}), while channel {channel} "
            f"reads the listings of Seller ID {seller_id} (account {account!r}), which has none of them",
            f"if channel {channel} should sell through Seller ID {main_seller_id}, give it account {main_account} "
            f"in the topology; if {seller_id} is right, set Build International Listings in Seller Central so "
            f"{source} offers are copied to {target} for Seller ID {seller_id}",
            account=account,
            details=details,
        )


class AccessDenied(AmazonError):
    code = "access_denied"

    def __init__(self, account: str, details: str | None = None):
        super().__init__(
            f"Amazon denied access for account {account!r}",
            "check that the SP-API application has the roles this operation needs and that the seller authorized "
            f"it; re-authorize if unsure ({RESET_HINT})",
            account=account,
            details=details,
        )


class Throttled(AmazonError):
    retryable = True
    code = "throttled"

    def __init__(self, account: str, operation: str, details: str | None = None):
        super().__init__(
            f"Amazon kept throttling {operation} for account {account!r} after the retries",
            "nothing to do if it is rare: the task retries later; if frequent, lower the concurrency of the "
            "account's pool (Admin > Pools) so the runs share the usage plan",
            account=account,
            details=details,
        )


class AmazonUnavailable(AmazonError):
    retryable = True
    code = "amazon_unavailable"

    def __init__(self, account: str, operation: str, details: str | None = None):
        super().__init__(
            f"Amazon SP-API did not answer {operation} for account {account!r} after the retries",
            "nothing to fix on your side: the task retries later; check https://sellercentral.amazon.com "
            "service status if it lasts",
            account=account,
            details=details,
        )


class AmazonRequestRejected(AmazonError):
    """A 4xx Amazon refused for a reason not listed above (a bug of ours or bad data)."""

    code = "request_rejected"

    def __init__(self, account: str, operation: str, status: int, details: str | None = None):
        super().__init__(
            f"Amazon rejected {operation} for account {account!r} (HTTP {status}: {details})",
            "read Amazon's message above; if it names our request, report it as a MIP bug with the run's log",
            account=account,
            details=details,
        )
        self.status = status  # 404: what was asked for does not exist (callers may expect that)
