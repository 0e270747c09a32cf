"""Reports of failing attendance channels and the Corregedoria's review of them."""
