"""The board's columns on the real server: one statement for the whole board, whatever its number of stages
(issue 12: a board of 5,000 cards; FerretDB decodes every card of a stage for each sort and each count)."""
import pytest

from crm_platform.mongo import MongoConnection
from crm_platform.testing.statements import Statements

from workflows.bootstrap import Container
from workflows.entrypoints.api import create_app

from .conftest import headers, project_all
from .test_api import board_with_contact, new_card


@pytest.fixture
def counted(container):
    """The test's container again, its statements to the cards read model counted."""
    statements = Statements("cards")
    counted = Container(container.settings)
    counted.mongo = MongoConnection(container.settings["MONGO_URI"], "test", event_listeners=[statements])
    app = create_app(counted.settings)
    app.extensions["container"] = counted
    return app.test_client(), counted, statements


def test_a_board_of_three_stages_is_read_in_one_statement_with_each_column_in_order_and_totalled(counted):
    client, container, statements = counted
    board = board_with_contact(client, container)
    other_board = client.post("/v1/boards", headers=headers(), json={"name": "Autre", "stages": ["X"]}).get_json()
    cards = {}
    for i in range(7):
        project_all(container)  # a new card goes after the last one the read model shows
        cards[i] = new_card(client, board, f"C{i}", stage=i % 3, value=f"{i}.50", currency="EUR" if i else "CHF")
    new_card(client, other_board, "ailleurs", value="1000", currency="EUR")
    won = new_card(client, board, "gagnée", stage=1, value="1000", currency="EUR")
    assert client.post(f"/v1/cards/{won['id']}/won", headers=headers()).status_code == 200
    project_all(container)
    statements.names.clear()

    columns = client.get(f"/v1/boards/{board['id']}/columns?limit=2", headers=headers()).get_json()["columns"]

    assert statements.names == ["find"]  # before: a page and a count per stage, 6 statements
    assert [[card["id"] for card in column["cards"]] for column in columns] == [
        [cards[0]["id"], cards[3]["id"]], [cards[1]["id"], cards[4]["id"]], [cards[2]["id"], cards[5]["id"]]]
    assert [(column["count"], column["totals"]) for column in columns] == [
        (3, {"CHF": "0.50", "EUR": "10.00"}), (2, {"EUR": "6.00"}), (2, {"EUR": "8.00"})]
    assert [column["next_cursor"] is not None for column in columns] == [True, False, False]

    statements.names.clear()
    first = board["stages"][0]["id"]
    rest = client.get(f"/v1/boards/{board['id']}/columns?limit=2&stage_id={first}&cursor={columns[0]['next_cursor']}",
                      headers=headers()).get_json()["columns"]
    assert statements.names == ["find"]
    assert [card["id"] for card in rest[0]["cards"]] == [cards[6]["id"]] and rest[0]["next_cursor"] is None
    assert (rest[0]["count"], rest[0]["totals"]) == (3, {"CHF": "0.50", "EUR": "10.00"})
