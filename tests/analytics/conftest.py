from tests.analytics.dataset import known

__all__ = ["known"]
