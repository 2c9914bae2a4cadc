"""Who the bot is and how it gets in: auth.test, OAuth installs, Socket Mode connections."""

from __future__ import annotations

from .records import Json, SlackError
from .socket_mode import SocketModeHub
from .workspace import Workspace


class AuthApi(Workspace):
    """auth.test, oauth.v2.access and apps.connections.open, and the token check of every call."""

    bot_token: str | None
    socket_mode: SocketModeHub
    _oauth_grants: dict[str, Json]

    def add_oauth_grant(
        self, code: str, *, team_id: str, team_name: str, bot_token: str, bot_user_id: str = "UBOT"
    ) -> None:
        """An OAuth ``code`` that ``oauth.v2.access`` will exchange for a bot installation."""
        self._oauth_grants[code] = {
            "access_token": bot_token,
            "token_type": "bot",
            "scope": "commands,chat:write",
            "bot_user_id": bot_user_id,
            "app_id": self.app_id,
            "team": {"id": team_id, "name": team_name},
            "enterprise": None,
            "authed_user": {"id": "UINSTALLER"},
            "is_enterprise_install": False,
        }

    def _auth_test(self, args: Json) -> Json:
        result: Json = {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }
        if self.enterprise_id is not None:
            result["enterprise_id"] = self.enterprise_id
        return result

    def _oauth_v2_access(self, args: Json) -> Json:
        grant = self._oauth_grants.pop(str(args.get("code") or ""), None)
        if grant is None:
            raise SlackError("invalid_code")
        return grant

    def _apps_connections_open(self, args: Json) -> Json:
        return {"url": self.socket_mode.open_url(self.base_url)}

    def _check_auth(self, authorization: str | None, *, app_level: bool = False) -> str | None:
        if not authorization:
            return "not_authed"
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return "not_authed"
        if app_level:
            return None if token.startswith("xapp-") else "invalid_auth"
        if not token.startswith("xoxb-"):
            return "invalid_auth"
        if self.bot_token is not None and token != self.bot_token:
            return "invalid_auth"
        return None
