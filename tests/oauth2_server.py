"""A small OAuth2 endpoint for the suite, in a thread on 127.0.0.1 (stdlib only), copied from the
measurement lab's oauth2_introspect.py and extended for tests.

`/introspect` is what Dovecot's oauth2 passdb asks (introspection_mode = post, RFC 7662 shape):
`token=tok-<user>` is active for that user, anything else `{"active": false}`. `/token` answers
a refresh-token grant (`grant_type=refresh_token&refresh_token=refresh-<user>`, with the
client id and secret below) with `tok-<user>`, as Google's and Microsoft's token endpoints do.
Every request is kept in `requests` (path and form) so tests can count refreshes.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"
CLIENT_ID = "tui-desk-test-client"
CLIENT_SECRET = "client-secret-for-tests"
_USER = re.compile(r"[A-Za-z0-9._-]+")


def access_token(user: str) -> str:
    return f"tok-{user}"


def refresh_token(user: str) -> str:
    return f"refresh-{user}"


class OAuth2Endpoint:
    def __init__(self, *, expires_in: int = 3600) -> None:
        self.expires_in = expires_in
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def token_requests(self) -> list[dict[str, str]]:
        return [form for path, form in list(self.requests) if path.startswith("/token")]

    def start(self) -> None:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(length).decode()).items()}
                endpoint.requests.append((self.path, form))
                if self.path.startswith("/introspect"):
                    token = form.get("token", "")
                    user = token[4:] if token.startswith("tok-") else ""
                    self._reply(200, {"active": True, "username": user} if _USER.fullmatch(user)
                                else {"active": False})
                elif self.path.startswith("/token"):
                    refresh = form.get("refresh_token", "")
                    user = refresh[8:] if refresh.startswith("refresh-") else ""
                    if (form.get("grant_type") == "refresh_token" and _USER.fullmatch(user)
                            and form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET):
                        self._reply(200, {"access_token": access_token(user), "token_type": "Bearer",
                                          "expires_in": endpoint.expires_in})
                    else:
                        self._reply(400, {"error": "invalid_grant"})
                else:
                    self._reply(404, {"error": "not found"})

            def log_message(self, fmt: str, *args) -> None:  # quiet: tokens are in the requests
                pass

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="oauth2-endpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
