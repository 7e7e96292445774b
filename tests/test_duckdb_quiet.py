"""DuckDB prints a progress bar on stdout when a query runs longer than 2 s; under load that
happened inside `custinfo explain --format json` and broke the JSON. Every connection the library
opens must have it off."""

from custinfo.match import Matcher, load_settings


def test_duckdb_progress_bar_is_off_so_json_on_stdout_stays_parseable():
    con = Matcher(load_settings())._connect()
    try:
        assert con.sql("SELECT current_setting('enable_progress_bar')").fetchall()[0][0] is False
    finally:
        con.close()
