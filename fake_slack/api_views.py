"""Modals and App Home: views.open, views.push and views.publish."""

from __future__ import annotations

from .records import Json, SlackError, required_str
from .workspace import Workspace


class ViewsApi(Workspace):
    """The Web API methods for views."""

    def _views_open(self, args: Json) -> Json:
        user = self._use_trigger(args)
        view = self._checked_view(args.get("view"), "modal")
        return {"view": self._store_view(view, user=user)}

    def _views_push(self, args: Json) -> Json:
        user = self._use_trigger(args)
        view = self._checked_view(args.get("view"), "modal")
        return {"view": self._store_view(view, user=user)}

    def _views_publish(self, args: Json) -> Json:
        user_id = required_str(args, "user_id")
        view = self._checked_view(args.get("view"), "home")
        current_id = self._homes.get(user_id)
        current = self._views.get(current_id) if current_id else None
        if current is not None and args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        stored = self._store_view(view, user=user_id, replacing=current)
        self._homes[user_id] = stored["id"]
        return {"view": stored}
