"""PEM text handed to OpenSSL as Python's ssl module takes it: one rule for the document's check at save
(integrations.tls) and the runners' SSL contexts (runners.tls), so that what is saved is what a run can load.

cryptography's PEM reader is more lenient than OpenSSL's (it accepts lines indented as in a YAML file, which
OpenSSL refuses with "PEM lib" or "no start line"): a document is checked with the loader the runners use.
"""

import os
import ssl
import tempfile


def load_cert_chain(context: ssl.SSLContext, certificate: str, key: str) -> None:
    """Load a client certificate (chain) and its key into `context`; raises ssl.SSLError if OpenSSL refuses them.

    The key reaches OpenSSL through an anonymous in-memory file (memfd_create on Linux; elsewhere a file in a
    private temporary folder, removed at once): the ssl module reads certificate chains from paths only.
    """
    pem = (certificate.strip() + "\n" + key.strip() + "\n").encode()
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("integration-client-certificate", os.MFD_CLOEXEC)
        try:
            with open(fd, "wb", closefd=False) as file:
                file.write(pem)
            context.load_cert_chain(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory() as folder:  # created with mode 0700
        path = os.path.join(folder, "chain.pem")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file:
            file.write(pem)
        context.load_cert_chain(path)


def load_ca_bundle(context: ssl.SSLContext, ca_bundle: str) -> None:
    """Trust the CA certificates of `ca_bundle` in `context`; raises ssl.SSLError if OpenSSL refuses them."""
    context.load_verify_locations(cadata=ca_bundle)
