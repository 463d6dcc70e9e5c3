"""DID resolution: did:key (incl. EBSI jwk_jcs-pub), did:jwk, did:web (SSRF-safe), did:ebsi."""

from trustbridge.did.interface import DIDError, DIDResolver, public_key_of
from trustbridge.did.resolver import CachingResolver, Resolution

__all__ = ["CachingResolver", "DIDError", "DIDResolver", "Resolution", "public_key_of"]
