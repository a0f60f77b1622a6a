"""The Python `requests` way of ION's quickstart: fetch a token, POST GetRuns, print the result.

What a Python user of ION writes by hand with `requests`, timed beside `ion run
queries/get_runs.graphql` by `benches/processes/` against the same local emulator. It reads the
same variables as `ion` (ION_API_URL, ION_TOKEN_URL, ION_CLIENT_ID, ION_CLIENT_SECRET) and
never prints the token or the secret.
"""

import json
import os
import sys

import requests

# The same document `ion run` sends: the repository's own queries/get_runs.graphql.
GET_RUNS_FILE = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "queries", "get_runs.graphql"
)


def main():
    with open(GET_RUNS_FILE, encoding="utf-8") as f:
        get_runs = f.read()
    api = os.environ["ION_API_URL"].rstrip("/")
    graphql_url = api if api.endswith("/graphql") else api + "/graphql"
    token = requests.post(
        os.environ["ION_TOKEN_URL"],
        data={
            "grant_type": "client_credentials",
            "client_id": os.environ["ION_CLIENT_ID"],
            "client_secret": os.environ["ION_CLIENT_SECRET"],
        },
        timeout=30,
    )
    token.raise_for_status()
    response = requests.post(
        graphql_url,
        json={"query": get_runs, "operationName": "GetRuns"},
        headers={"Authorization": "Bearer " + token.json()["access_token"]},
        timeout=30,
    )
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        print(json.dumps(body["errors"]), file=sys.stderr)
        return 1
    print(json.dumps(body["data"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
