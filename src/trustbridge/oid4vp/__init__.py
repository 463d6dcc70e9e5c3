"""OpenID for Verifiable Presentations 1.0, verifier side.

HR systems create presentation requests; wallets fetch a signed request
object and post their presentations to the Response URI; the verification
pipeline judges them. Public API: ``PresentationService`` (via
``service.presentations_of``), the query models and the matching functions.
"""

from __future__ import annotations

__all__: list[str] = []
