"""One exception tree for the whole package, a subtree per boundary."""

from __future__ import annotations

import datetime as dt


class ContactCenterError(Exception):
    """Root of every error this package raises on purpose."""


class SettingsError(ContactCenterError):
    """A setting is missing or has a bad value; the message names it."""


# --- AMI -------------------------------------------------------------------------------------


class AmiError(ContactCenterError):
    """Anything that went wrong talking to the Asterisk Manager Interface."""


class AmiUnavailable(AmiError):
    """There is no logged-in AMI link right now."""


class AmiTimeout(AmiError):
    """An AMI action got no response in time."""


class AmiActionFailed(AmiError):
    """Asterisk answered an action with `Response: Error`."""

    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"AMI action {action} failed: {message}")
        self.action = action
        self.message = message


class AmiLoginFailed(AmiError):
    """Asterisk refused our credentials."""


class AmiBadInput(AmiError, ValueError):
    """An action field was refused before sending: a line break, a control character,
    an oversized value, or a queue name or interface of the wrong shape."""


# --- FastAGI ---------------------------------------------------------------------------------


class AgiError(ContactCenterError):
    """A FastAGI session broke the protocol or the channel went away."""


class AgiProtocolError(AgiError):
    """The peer sent something that is not FastAGI."""


class AgiHangup(AgiError):
    """The channel hung up while we were talking to it."""


# --- routing ---------------------------------------------------------------------------------


class RoutingError(ContactCenterError):
    """A routing decision could not be made."""


class RuleError(RoutingError):
    """A routing rule, queue schedule or rulebook file is not valid; the message says where."""


# --- storage ---------------------------------------------------------------------------------


class StorageError(ContactCenterError):
    """The database refused or failed an operation."""


# --- accounts and logins --------------------------------------------------------------------


class AuthError(ContactCenterError):
    """A login, an account or a permission was refused."""


class WrongCredentials(AuthError):
    """Unknown user, wrong password or inactive account: deliberately one error for all."""


class LoginLocked(AuthError):
    """Too many failed logins for this username lately; try again after `until`."""

    def __init__(self, username: str, until: dt.datetime) -> None:
        super().__init__(f"too many failed logins for {username!r}; locked until {until:%H:%M} UTC")
        self.username = username
        self.until = until


class WeakPassword(AuthError, ValueError):
    """A new password was refused (too short, too long)."""


class BadAccount(AuthError, ValueError):
    """An account field has a bad value (username, role, language, interface)."""


class UserExists(AuthError):
    """A user with this username (or phone interface) already exists."""


class UnknownUser(AuthError):
    """No user with this username."""


# --- sandbox ---------------------------------------------------------------------------------


class SandboxError(ContactCenterError):
    """The Asterisk sandbox could not be built, started or stopped."""


# --- bus and live state ----------------------------------------------------------------------


class BusUnavailable(ContactCenterError):
    """The bus or the live-state store (Redis) cannot be reached."""


class BridgeUnavailable(BusUnavailable):
    """No bridge answered a command for its node in time (none running, or stuck)."""


# --- agent state and commands ----------------------------------------------------------------


class AgentError(ContactCenterError):
    """An agent command (queue log-in/out, pause, click-to-call) or list edit was refused."""


class AgentCommandInvalid(AgentError, ValueError):
    """A command's argument is unusable: unknown queue, reason or number, bad interface."""


class AgentForbidden(AgentError):
    """The user may not act on this agent, queue or customer."""


class AgentCommandFailed(AgentError):
    """The bridge tried and Asterisk refused (the message says why); `error` is a stable id."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


# --- contact history, contacts logged by hand, tasks ---------------------------------------


class CrmError(ContactCenterError):
    """A contact, a task or a customer look-up was refused."""


class ContactInvalid(CrmError, ValueError):
    """A contact logged by hand has a bad field (channel, subject, notes, time, user)."""


class TaskInvalid(CrmError, ValueError):
    """A task has a bad field (kind, title, due time, number, assignee, interaction)."""


class SearchInvalid(CrmError, ValueError):
    """A customer search or a history page cursor is not usable."""


class CustomerNotFound(CrmError):
    """No customer with this id."""

    def __init__(self, customer_id: int) -> None:
        super().__init__(f"no customer {customer_id}")
        self.customer_id = customer_id


class TaskNotFound(CrmError):
    """No task with this id."""

    def __init__(self, task_id: int) -> None:
        super().__init__(f"no task {task_id}")
        self.task_id = task_id


class TaskClosed(CrmError):
    """The task is done or cancelled already: it cannot be completed or cancelled again."""

    def __init__(self, task_id: int, status: str) -> None:
        super().__init__(f"task {task_id} is {status} already")
        self.task_id = task_id
        self.status = status


class DeskError(ContactCenterError):
    """What an agent typed on the desk about a call was refused."""


class DeskInvalid(DeskError, ValueError):
    """A bad field (notes, disposition, name, number, due time): the form says which."""


class DeskForbidden(DeskError):
    """The call or the customer is not the agent's."""


class DeskNotYet(DeskError):
    """The call just ended and its record is not written yet: try again in a moment."""
