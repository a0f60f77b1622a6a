"""Importing rows from a CSV with `requests`, one mutation per row in turn: the importer's loop.

Usage: import_rows.py ROWS.csv [MUTATION.graphql]. Each CSV column names a variable of the
mutation (default: `create_run.graphql` beside this script, `$title`); every row is sent as one
request, the next only after the previous answered. A `429` is waited out for the `Retry-After`
seconds it names and the same row is sent again. The published ION importers do not do even
that: for them a 429 fails the row. At the end one JSON line on stdout counts the rows that
were applied, those that failed and the 429s received. Measured beside `ion import` by
`benches/processes/` against the same local emulator; it reads the same ION_* variables as
`ion` and never prints the token or the secret.
"""

import csv
import json
import os
import sys
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))


def main(rows_path, mutation_path):
    with open(mutation_path, encoding="utf-8") as f:
        mutation = f.read()
    api = os.environ["ION_API_URL"].rstrip("/")
    graphql_url = api if api.endswith("/graphql") else api + "/graphql"
    # One session: the connection is reused from row to row.
    session = requests.Session()
    token = session.post(
        os.environ["ION_TOKEN_URL"],
        data={
            "grant_type": "client_credentials",
            "client_id": os.environ["ION_CLIENT_ID"],
            "client_secret": os.environ["ION_CLIENT_SECRET"],
        },
        timeout=30,
    )
    token.raise_for_status()
    session.headers["Authorization"] = "Bearer " + token.json()["access_token"]
    ok = failed = rate_limited = 0
    with open(rows_path, newline="", encoding="utf-8") as f:
        for number, row in enumerate(csv.DictReader(f), start=1):
            while True:
                response = session.post(
                    graphql_url, json={"query": mutation, "variables": row}, timeout=30
                )
                if response.status_code != 429:
                    break
                rate_limited += 1
                time.sleep(float(response.headers.get("Retry-After", "1")))
            if response.ok and not response.json().get("errors"):
                ok += 1
            else:
                failed += 1
                print(f"row {number}: HTTP {response.status_code}", file=sys.stderr)
    print(json.dumps({"ok": ok, "failed": failed, "rate_limited": rate_limited}))
    return 1 if failed else 0


if __name__ == "__main__":
    default = os.path.join(HERE, "create_run.graphql")
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else default))
