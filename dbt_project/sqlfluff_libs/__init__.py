"""Stand-ins for the dbt context that SQLFluff's jinja templater does not have (it renders the
models offline, without a database): ``execute`` is true, so the branches dbt runs are the ones
linted; ``load_relation`` finds every relation; ``run_query`` and
``adapter.get_columns_in_relation`` answer with sample columns; ``adapter.quote`` quotes as
PostgreSQL does."""

execute = True


class _Values(list):
    def values(self) -> list:
        return list(self)


class _Table:
    def __init__(self, names: list[str]) -> None:
        self.columns = [_Values(names)]


class _Column:
    def __init__(self, name: str) -> None:
        self.name = name


def load_relation(relation):
    """The relation, as if it were in the warehouse (a seed the models read is loaded)."""
    return relation


def run_query(sql: str) -> _Table:
    """A one-column result with two sample names (a column list read from a seed)."""
    return _Table(["sample_flag_a", "sample_flag_b"])


class _Adapter:
    def get_columns_in_relation(self, relation) -> list[_Column]:
        return [_Column(name) for name in ("valid_from", "valid_to")]

    def quote(self, identifier: str) -> str:
        return f'"{identifier}"'


adapter = _Adapter()
