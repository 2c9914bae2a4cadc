"""What the app does, shared by the Slack handlers and the scheduled jobs.

Between the edge (``handlers/``, ``jobs/``) and the core (``bot.domain``, ``storage``): the unit
of work, the publishers (telling a user, the theme message, App Home) and one function per user
intent. Handlers parse, ack, call a use case and render; jobs call the same functions. Nothing
here imports ``handlers`` or ``jobs``.
"""
