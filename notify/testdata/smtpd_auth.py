"""A real SMTP server for notify's e-mail tests: aiosmtpd (Debian's
python3-aiosmtpd) with STARTTLS required and AUTH required over TLS,
which its command line cannot set up. It prints every message as
`python3 -m aiosmtpd` does.

    python3 smtpd_auth.py PORT CERTFILE KEYFILE USER PASSWORD
"""
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Debugging
from aiosmtpd.smtp import AuthResult

port, cert, key, user, password = sys.argv[1:6]


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False)


tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(cert, key)
controller = Controller(
    Debugging(sys.stdout),
    hostname="127.0.0.1",
    port=int(port),
    tls_context=tls,
    require_starttls=True,
    authenticator=authenticator,
    auth_required=True,
    auth_require_tls=True,
)
controller.start()
print("ready", flush=True)
threading.Event().wait()
