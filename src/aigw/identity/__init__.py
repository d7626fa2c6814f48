"""Identity providers for the admin panel (OpenID Connect)."""
