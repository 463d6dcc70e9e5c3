"""A demo issuer for conformance test suites: signs what it is asked to, with a public demo key.

Off by default (``demo_issuer``), refused in production. It exists so the W3C
test suites, which issue credentials through the implementation under test
before verifying them, can drive this service. It is not a credential issuer.
"""
