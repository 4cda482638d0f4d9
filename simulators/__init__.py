"""Local stand-ins for the payment gateways, for development and tests; never for production."""
