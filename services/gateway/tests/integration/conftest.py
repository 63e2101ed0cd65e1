import pytest


@pytest.fixture
def cleanup(mongo_client, unique_suffix):
    """Drops the gateway database the test made with `gateway(...)`."""
    yield
    mongo_client.drop_database(f"test_{unique_suffix}_gateway")
