"""Secrets at rest: django-cryptography-5 fields keyed by INTEGRATIONS_ENCRYPTION_KEY.

django-cryptography signs its ciphertext with SECRET_KEY and encrypts with a key
derived from CRYPTOGRAPHY_KEY, both fixed at import time. We give the fields a
cipher that derives both halves from INTEGRATIONS_ENCRYPTION_KEY when it is used,
so the secret key can change independently and the encryption key can be rotated.
"""

import functools
import pickle

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models
from django_cryptography.core.signing import FernetSigner
from django_cryptography.fields import EncryptedMixin, encrypt
from django_cryptography.utils.crypto import FernetBytes


@functools.lru_cache(maxsize=8)
def cipher_for(key: str) -> FernetBytes:
    material = HKDF(algorithm=hashes.SHA256(), length=64, salt=b"integrations.secrets", info=b"fernet-v1").derive(
        key.encode()
    )
    return FernetBytes(material[32:], FernetSigner(material[:32]))


class _CurrentKeyCipher:
    def encrypt(self, data: bytes) -> bytes:
        return cipher_for(settings.INTEGRATIONS_ENCRYPTION_KEY).encrypt(data)

    def decrypt(self, data: bytes, ttl=None) -> bytes:
        return cipher_for(settings.INTEGRATIONS_ENCRYPTION_KEY).decrypt(data, ttl)


def encrypted(field: models.Field) -> models.Field:
    encrypted_field = encrypt(field)
    encrypted_field._fernet = _CurrentKeyCipher()
    return encrypted_field


def reencrypt(ciphertext: bytes, *, old_key: str, new_key: str) -> bytes:
    """Decrypt with the old key (raising if it does not match) and encrypt with the new one."""
    plaintext = cipher_for(old_key).decrypt(bytes(ciphertext))
    pickle.loads(plaintext)  # noqa: S301 (HMAC-verified above) proves the payload is intact before rewriting
    return cipher_for(new_key).encrypt(plaintext)


def encrypted_fields(model: type[models.Model]) -> list[models.Field]:
    return [field for field in model._meta.concrete_fields if isinstance(field, EncryptedMixin)]
