"""Secrets at rest: Fernet tokens (cryptography's MultiFernet) under INTEGRATIONS_ENCRYPTION_KEYS.

The first key encrypts, any key of the list decrypts, so a key rotates without downtime: put the new key first,
deploy, run `manage.py rotate_encryption_key` (every value re-encrypted under the first key), then drop the old key.
Each configured key (any string; generate 48 random bytes) is stretched with HKDF into a Fernet key, so the secret
key can change independently. A value is stored as the Fernet token of its JSON text in a binary column.

Rows written before this format (django-cryptography's pickled values) are converted by migration
0003_secrets_as_fernet_tokens, with `legacy_decrypt`.
"""

import base64
import functools
import json
import pickle
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

__all__ = ["EncryptedField", "InvalidToken", "encrypted_fields", "secrets_cipher"]


def _derive(key: str, *, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"integrations.secrets", info=info).derive(key.encode())


@functools.lru_cache(maxsize=8)
def keyring(keys: tuple[str, ...]) -> MultiFernet:
    """A MultiFernet for these configured keys: encrypts with the first, decrypts with any."""
    if not keys:
        raise ValueError("No encryption key is configured (INTEGRATIONS_ENCRYPTION_KEYS).")
    return MultiFernet([Fernet(base64.urlsafe_b64encode(_derive(key, info=b"fernet-v2", length=32))) for key in keys])


def secrets_cipher() -> MultiFernet:
    """The cipher for the keys configured now (settings.INTEGRATIONS_ENCRYPTION_KEYS)."""
    return keyring(tuple(settings.INTEGRATIONS_ENCRYPTION_KEYS))


class EncryptedField(models.BinaryField):
    """A JSON-serialisable value (text, dict...) stored as a Fernet token; None is stored as NULL.

    Reading a value no configured key can decrypt raises cryptography.fernet.InvalidToken.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return json.loads(secrets_cipher().decrypt(bytes(value)))

    def to_python(self, value):
        return value

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        token = secrets_cipher().encrypt(json.dumps(value).encode())
        return connection.Database.Binary(token)

    def value_to_string(self, obj):
        return "********"


def encrypted_fields(model: type[models.Model]) -> list[models.Field]:
    return [field for field in model._meta.concrete_fields if isinstance(field, EncryptedField)]


def legacy_decrypt(ciphertext: bytes, *, keys: Sequence[str]):
    """A value as django-cryptography-5 stored it before migration 0003 (signed, encrypted pickle), or InvalidToken.

    Only this conversion still reads the old format; the pickle is loaded after its HMAC is verified.
    """
    from django_cryptography.core.signing import BadSignature, FernetSigner
    from django_cryptography.utils.crypto import FernetBytes

    for key in keys:
        material = _derive(key, info=b"fernet-v1", length=64)
        try:
            plaintext = FernetBytes(material[32:], FernetSigner(material[:32])).decrypt(bytes(ciphertext))
        except (BadSignature, InvalidToken, ValueError):
            continue
        return pickle.loads(plaintext)  # noqa: S301 (authenticated above)
    raise InvalidToken


def legacy_encrypt(value, *, key: str) -> bytes:
    """The django-cryptography-5 form of a value (for reversing migration 0003 and for its tests)."""
    from django_cryptography.core.signing import FernetSigner
    from django_cryptography.utils.crypto import FernetBytes

    material = _derive(key, info=b"fernet-v1", length=64)
    return FernetBytes(material[32:], FernetSigner(material[:32])).encrypt(pickle.dumps(value))
