"""Consent state the social features need, without personal data: whether a user's activity may
personalize suggestions and recommendations (theirs and others'). The decisions themselves, with
their history and policy version, stay in the identity database; ``PUT /me/consents`` writes both.
Existing users keep what they had: personalization on, until they withdraw it (docs/privacy.md).
"""

STATEMENTS = [
    "ALTER TABLE users ADD COLUMN personalization boolean NOT NULL DEFAULT true",
    "CREATE INDEX users_without_personalization ON users (id) WHERE NOT personalization",
]
