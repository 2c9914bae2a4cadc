"""File uploads as files_upload_v2 makes them: get an upload URL, post the bytes, complete."""

from __future__ import annotations

import copy
import mimetypes

from .records import CREATED, FakeFile, Json, SlackError, required_str
from .workspace import Workspace


class FilesApi(Workspace):
    """The Web API methods for files (the bytes arrive at the upload URL the server answers)."""

    def _files_get_upload_url_external(self, args: Json) -> Json:
        filename = required_str(args, "filename")
        try:
            length = int(args.get("length", ""))
        except ValueError:
            raise SlackError(
                "invalid_arguments", messages=["[ERROR] missing required field: length"]
            ) from None
        self._counter += 1
        file_id = f"F{self._counter}"
        self._files[file_id] = FakeFile(id=file_id, filename=filename, length=length)
        return {"upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, args: Json) -> Json:
        items = args.get("files")
        if not isinstance(items, list) or not items:
            raise SlackError(
                "invalid_arguments", messages=["[ERROR] missing required field: files"]
            )
        channel = args.get("channel_id") or args.get("channels")
        if isinstance(channel, str) and "," not in channel:
            channel = self._resolve_channel(channel)
            self._require_member(channel)
        else:
            channel = None
        completed = []
        for item in items:
            stored = self._files.get(item.get("id", "")) if isinstance(item, dict) else None
            if stored is None or not stored.uploaded:
                raise SlackError("file_not_found")
            completed.append((stored, item))
        results = []
        for stored, item in completed:
            stored.title = item.get("title") or stored.filename
            stored.completed = True
            stored.channel_id = channel
            stored.initial_comment = args.get("initial_comment")
            stored.thread_ts = args.get("thread_ts")
            results.append(self._file_json(stored))
        if channel is not None:
            share: Json = self._bot_message({"text": args.get("initial_comment") or ""}, "")
            share["ts"] = self.next_ts()
            share["files"] = copy.deepcopy(results)
            share["upload"] = True
            self._insert_message(channel, share, args.get("thread_ts") or None)
        return {"files": results}

    def _file_json(self, stored: FakeFile) -> Json:
        mimetype = mimetypes.guess_type(stored.filename)[0] or "application/octet-stream"
        return {
            "id": stored.id,
            "created": CREATED,
            "name": stored.filename,
            "title": stored.title,
            "mimetype": mimetype,
            "filetype": stored.filename.rsplit(".", 1)[-1] if "." in stored.filename else "",
            "user": self.bot_user_id,
            "size": stored.size,
            "url_private": f"{self.base_url}files/{stored.id}/{stored.filename}",
            "permalink": f"https://{self.team_domain}.slack.com/files/{self.bot_user_id}/"
            f"{stored.id}/{stored.filename}",
            "channels": [stored.channel_id] if stored.channel_id else [],
        }
