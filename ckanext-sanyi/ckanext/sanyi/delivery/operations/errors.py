"""The engine's refusals: :class:`~ckanext.sanyi.domain.errors.DomainError`\\ s with a machine
``code`` the gateway answers with (and the HTTP status it suggests), messages in Chinese and
English."""
from __future__ import annotations

from collections.abc import Iterable

from ...domain.errors import DomainError

__all__ = ["OperationRefused", "UnknownOperation", "DataItemsExceeded", "InvalidInput",
           "OperationUnavailable"]


class OperationRefused(DomainError):
    code = "operation_refused"
    status = 400


class UnknownOperation(OperationRefused):
    """No operation of that name (for that product)."""
    code = "unknown_operation"
    status = 404


class OperationUnavailable(OperationRefused):
    """An operation reads a source whose catalog resource is not in the catalog."""
    code = "operation_unavailable"
    status = 503


class DataItemsExceeded(OperationRefused):
    """The entitlement's approved data items do not cover the operation's reads (最小必要):
    ``missing`` lists the items ``"<resource name>:<中文字段名>"`` lacking."""
    code = "data_items_exceeded"
    status = 403

    def __init__(self, operation: str, missing: Iterable[str]) -> None:
        self.missing = tuple(sorted(missing))
        shown = "、".join(self.missing[:10]) + ("…" if len(self.missing) > 10 else "")
        super().__init__(
            "data_items",
            f"操作“{operation}”读取的数据项超出授权范围（最小必要），缺少：{shown}",
            f"operation {operation} reads data items the entitlement does not cover "
            f"(minimum necessary); missing: {', '.join(self.missing[:10])}")


class InvalidInput(OperationRefused):
    """Bad input: ``errors`` holds one :class:`DomainError` per bad field (the first one is
    this error's own field and messages)."""
    code = "invalid_input"
    status = 400

    def __init__(self, errors: Iterable[DomainError]) -> None:
        self.errors = tuple(errors)
        first = self.errors[0] if self.errors else DomainError(
            "__all__", "输入无效", "invalid input")
        super().__init__(first.field, first.zh, first.en)

    def as_list(self) -> list[dict[str, str]]:
        """``[{"field", "zh", "en"}, ...]``, one per bad field, in input order."""
        return [e.as_dict() for e in self.errors]
