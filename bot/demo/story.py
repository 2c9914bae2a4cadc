"""The Pet Clinic team, a year before their DevOps journey paid off (shared seeds, story 000).

People and their roles come from the story; the numbers are the team's own estimates from the
VSM exercise Chun facilitated, and the week of waste is what they logged the week after.
"""

from __future__ import annotations

from dataclasses import dataclass

TEAM_ID = "TPETCLINIC"
TEAM_NAME = "Pet Clinic"
CHANNEL = "CPETCLINIC"
CHANNEL_NAME = "petclinic-team"
PRIVATE_CHANNEL = "GPETOPS"
PRIVATE_CHANNEL_NAME = "petclinic-ops"


@dataclass(frozen=True)
class Person:
    name: str
    user_id: str
    role: str
    tz: str = "Europe/Lisbon"


PEOPLE = {
    p.name: p
    for p in (
        Person("Chun", "UCHUN", "DevOps coach who facilitated the VSM exercise", "Asia/Singapore"),
        Person("Paulo", "UPAULO", "Product Owner who led the VSM exercise"),
        Person("Santhosh", "USANTHOSH", "Scrum Master, co-facilitator", "Asia/Kolkata"),
        Person("Brenda", "UBRENDA", "Business representative"),
        Person("Selma", "USELMA", "Security representative"),
        Person("Adam", "UADAM", "IT Admin representative"),
        Person("Dan", "UDAN", "Developer representative"),
        Person("Tina", "UTINA", "Test representative"),
    )
}

# The current stream, idea to production: (name, owner role, process, wait before it, %C&A).
CURRENT_STREAM = [
    ("Idea intake", "Product Owner", "2h", "3d", "90"),
    ("Refinement", "Team", "4h", "5d", "70"),
    ("Development", "Developer", "3d", "2d", "85"),
    ("Code review", "Developer", "2h", "1d", "90"),
    ("Testing", "Tester", "2d", "5d", "60"),
    ("Change approval board", "CAB", "1h", "10d", "80"),
    ("Deployment", "IT Admin", "4h", "2d", "75"),
]

# The future state the team designed: automated change checks and on-demand environments.
FUTURE_STREAM = [
    ("Idea intake", "Product Owner", "2h", "1d", "95"),
    ("Refinement", "Team", "3h", "1d", "90"),
    ("Development", "Developer", "2d", "4h", "90"),
    ("Code review", "Developer", "1h", "2h", "95"),
    ("Testing", "Tester", "1d", "2h", "90"),
    ("Automated change checks", "Security + IT Admin", "30m", "30m", "95"),
    ("Deployment", "Pipeline", "30m", "1h", "95"),
]

# A week of waste, Monday to Friday: (day, hour, who, how, text).
# how: "waste" quick log, "wait" quick log, "modal" the form, "react" the waste emoji.
WEEK = [
    (0, 9, "Dan", "wait", "2d test environment booked by the upgrade team in Testing"),
    (
        0,
        11,
        "Tina",
        "waste",
        "defects 3h login regression came back from UAT, third time this month",
    ),
    (
        0,
        14,
        "Adam",
        "wait",
        "10d change approval board only meets on Thursdays in Change approval board",
    ),
    (0, 16, "Dan", "waste", "context switch 1h pulled into the incident bridge twice"),
    (1, 10, "Brenda", "waste", "overproduction 4h report export nobody has opened since March"),
    (1, 13, "Tina", "wait", "1d waiting for test data from the DBA team in Testing"),
    (1, 15, "Selma", "waste", "handoff 2h security review done by email with three forwards"),
    (2, 9, "Dan", "wait", "4h code review sat in the queue overnight in Code review"),
    (2, 11, "Paulo", "waste", "wip 1h twelve stories in progress for five people"),
    (
        2,
        15,
        "Santhosh",
        "waste",
        "extra processing 2h status report rebuilt by hand for three audiences",
    ),
    (3, 10, "Adam", "waste", "rework 6h deployment rolled back: config differed from staging"),
    (3, 14, "Tina", "wait", "3d test environment down after the database patch in Testing"),
    (3, 16, "Chun", "waste", "talent testers not invited to refinement, edge cases found late"),
    (4, 10, "Dan", "waste", "waiting 2h for the CI runner"),
    (
        4,
        11,
        "Adam",
        "wait",
        "5d waiting for the CAB to approve the hotfix in Change approval board",
    ),
    (4, 15, "Selma", "waste", "gold plating 3h hardening a feature flag that is being deleted"),
]

# Messages in the channel that people react to with the waste emoji.
REACTED = [
    (1, 12, "Tina", "Anyone know who owns the staging DB? Third day asking :(", "Dan"),
    (3, 9, "Brenda", "Can we get the release notes in the Word template again?", "Santhosh"),
]
