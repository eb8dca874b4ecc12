"""The Amazon gateway: every SP-API call of MIP goes through ``mip.amazon.gateway.SpApiGateway``."""
