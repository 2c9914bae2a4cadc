"""Every Slack identifier the app owns: commands, callback ids, action ids, block ids.

Defined once here so views and handlers cannot drift apart; dotted lower case by feature.
"""

from __future__ import annotations

from typing import Final

# Slash commands (also listed in manifest.yml; a test keeps the two in step).
CMD_WASTE: Final = "/waste"
CMD_WAIT: Final = "/wait"
CMD_VSM: Final = "/vsm"
CMD_KAIZEN: Final = "/kaizen"
CMD_RETRO: Final = "/retro"
CMD_FLOW: Final = "/flow"
COMMANDS: Final = (CMD_WASTE, CMD_WAIT, CMD_VSM, CMD_KAIZEN, CMD_RETRO, CMD_FLOW)

# Bot scopes the app asks for (also in manifest.yml; a test keeps the two in step).
BOT_SCOPES: Final = (
    "commands",
    "chat:write",
    "reactions:read",
    "reactions:write",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
    "users:read",
    "files:write",
)

# Shortcuts
SHORTCUT_LOG_WASTE: Final = "waste.log_message"
SHORTCUTS: Final = (SHORTCUT_LOG_WASTE,)

# Events the app subscribes to
EVENT_REACTION_ADDED: Final = "reaction_added"
EVENT_REACTION_REMOVED: Final = "reaction_removed"
EVENT_APP_HOME_OPENED: Final = "app_home_opened"
EVENT_APP_UNINSTALLED: Final = "app_uninstalled"
EVENT_TOKENS_REVOKED: Final = "tokens_revoked"
EVENT_MEMBER_JOINED_CHANNEL: Final = "member_joined_channel"
EVENT_CHANNEL_LEFT: Final = "channel_left"
EVENT_GROUP_LEFT: Final = "group_left"
EVENTS: Final = (
    EVENT_REACTION_ADDED,
    EVENT_REACTION_REMOVED,
    EVENT_APP_HOME_OPENED,
    EVENT_APP_UNINSTALLED,
    EVENT_TOKENS_REVOKED,
    EVENT_MEMBER_JOINED_CHANNEL,
    EVENT_CHANNEL_LEFT,
    EVENT_GROUP_LEFT,
)


# Waste
VIEW_WASTE: Final = "waste.modal"
BLOCK_WASTE_CATEGORY: Final = "waste.category"
BLOCK_WASTE_DESCRIPTION: Final = "waste.description"
BLOCK_WASTE_STEP: Final = "waste.step"
BLOCK_WASTE_MINUTES: Final = "waste.minutes"
BLOCK_WASTE_LINK: Final = "waste.link"
BLOCK_WASTE_ANONYMOUS: Final = "waste.anonymous"
BLOCK_WASTE_CHANNEL: Final = "waste.channel"
ACTION_WASTE_INPUT: Final = "waste.input"
ACTION_WASTE_UNDO: Final = "waste.undo"
ACTION_WASTE_PICK_CATEGORY: Final = "waste.pick_category"
ACTION_WAIT_PICK_STEP: Final = "wait.pick_step"
ACTION_WASTE_OPEN_MODAL: Final = "waste.open_modal"

# Wait
VIEW_WAIT: Final = "wait.modal"
BLOCK_WAIT_STEP: Final = "wait.step"
BLOCK_WAIT_MINUTES: Final = "wait.minutes"
BLOCK_WAIT_REASON: Final = "wait.reason"
BLOCK_WAIT_WORK_ITEM: Final = "wait.work_item"
ACTION_WAIT_INPUT: Final = "wait.input"

# Value stream map
VIEW_VSM_STEP: Final = "vsm.step_modal"
VIEW_VSM_REMOVE: Final = "vsm.remove_modal"
BLOCK_VSM_NAME: Final = "vsm.name"
BLOCK_VSM_AFTER: Final = "vsm.after"
BLOCK_VSM_OWNER: Final = "vsm.owner"
BLOCK_VSM_PROCESS: Final = "vsm.process"
BLOCK_VSM_WAIT: Final = "vsm.wait"
BLOCK_VSM_CA: Final = "vsm.ca"
BLOCK_VSM_STATE: Final = "vsm.state"
ACTION_VSM_INPUT: Final = "vsm.input"

# Kaizen themes, votes, action items, channel settings
VIEW_THEME: Final = "kaizen.theme_modal"
VIEW_ACTION_ITEM: Final = "kaizen.action_modal"
VIEW_CHANNEL_SETTINGS: Final = "kaizen.settings_modal"
BLOCK_THEME_TITLE: Final = "kaizen.title"
BLOCK_THEME_PROBLEM: Final = "kaizen.problem"
BLOCK_THEME_CATEGORY: Final = "kaizen.category"
BLOCK_THEME_STEP: Final = "kaizen.step"
BLOCK_THEME_CHANGE: Final = "kaizen.change"
BLOCK_THEME_METRIC: Final = "kaizen.metric"
BLOCK_THEME_TARGET: Final = "kaizen.target"
BLOCK_THEME_CHECK_DATE: Final = "kaizen.check_date"
BLOCK_ACTION_ITEM_TEXT: Final = "kaizen.action_text"
BLOCK_ACTION_ITEM_OWNER: Final = "kaizen.action_owner"
BLOCK_ACTION_ITEM_DUE: Final = "kaizen.action_due"
BLOCK_ACTION_ITEM_THEME: Final = "kaizen.action_theme"
BLOCK_CHANNEL_SETTINGS_DIGEST_DAY: Final = "kaizen.digest_day"
BLOCK_CHANNEL_SETTINGS_DIGEST_TIME: Final = "kaizen.digest_time"
BLOCK_CHANNEL_SETTINGS_TIMEZONE: Final = "kaizen.timezone"
BLOCK_CHANNEL_SETTINGS_VOTE_EMOJI: Final = "kaizen.vote_emoji"
BLOCK_CHANNEL_SETTINGS_WASTE_EMOJI: Final = "kaizen.waste_emoji"
BLOCK_CHANNEL_SETTINGS_VOTE_LIMIT: Final = "kaizen.vote_limit"
ACTION_KAIZEN_INPUT: Final = "kaizen.input"
ACTION_THEME_STATUS: Final = "kaizen.theme_status"
ACTION_THEME_ADD_ACTION_ITEM: Final = "kaizen.theme_add_action"
ACTION_ACTION_ITEM_DONE: Final = "kaizen.action_done"
ACTION_HOME_ADD_THEME: Final = "kaizen.home_add_theme"
ACTION_THEME_REPOST: Final = "kaizen.theme_repost"
BLOCK_THEME_CHANNEL: Final = "kaizen.channel"

# Flow summary and weekly digest
ACTION_DIGEST_UNSUBSCRIBE: Final = "flow.unsubscribe"

# Retros
VIEW_RETRO_START: Final = "retro.start_modal"
VIEW_RETRO_NOTE: Final = "retro.note_modal"
VIEW_RETRO_ACTION: Final = "retro.action_modal"
BLOCK_RETRO_TITLE: Final = "retro.title"
BLOCK_RETRO_TEMPLATE: Final = "retro.template"
BLOCK_RETRO_COLLECT_UNTIL: Final = "retro.collect_until"
BLOCK_RETRO_VOTE_UNTIL: Final = "retro.vote_until"
BLOCK_RETRO_VOTES: Final = "retro.votes"
BLOCK_RETRO_ANONYMOUS: Final = "retro.anonymous"
BLOCK_RETRO_COLUMN: Final = "retro.column"
BLOCK_RETRO_TEXT: Final = "retro.text"
ACTION_RETRO_INPUT: Final = "retro.input"
ACTION_RETRO_ADD_NOTE: Final = "retro.add_note"
ACTION_RETRO_EDIT_NOTE: Final = "retro.edit_note"
ACTION_RETRO_NUDGE: Final = "retro.nudge"
ACTION_RETRO_MAKE_THEME: Final = "retro.make_theme"
ACTION_RETRO_ADD_ACTION: Final = "retro.add_action"
