"""Privacy: the registry of personal data parts, exports, erasures and the audit (docs/privacy.md)."""
