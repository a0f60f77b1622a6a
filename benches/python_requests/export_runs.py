"""Exporting every run with `requests`: the cursor loop an export script writes by hand.

Usage: export_runs.py [PAGE_SIZE]. It fetches a token, then asks for the runs a page at a time
(`runs(first: PAGE_SIZE, after: $after)`, the fields of `queries/list_runs.graphql`), passing
each page's `endCursor` back as `$after` while `hasNextPage` is true, and writes every run as a
JSON line as soon as its page arrives, so only one page is held. Measured beside `ion export`
and `ion run --all-pages` by `benches/processes/` against the same local emulator; it reads the
same ION_* variables as `ion` and never prints the token or the secret.
"""

import json
import os
import sys

import requests

# The selection of `queries/list_runs.graphql` with its fragments written out, so both sides
# ask for the same fields and the same order.
LIST_RUNS = """
query ListRuns($first: Int, $after: String) {
  runs(sort: [ID_ASC], first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id _etag title status procedureId partId partInventoryId quantity dueDate
        percentComplete
      }
    }
  }
}
"""


def main(page_size):
    api = os.environ["ION_API_URL"].rstrip("/")
    graphql_url = api if api.endswith("/graphql") else api + "/graphql"
    # One session: the connection is reused from page to page.
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
    out = sys.stdout
    after = None
    while True:
        response = session.post(
            graphql_url,
            json={
                "query": LIST_RUNS,
                "operationName": "ListRuns",
                "variables": {"first": page_size, "after": after},
            },
            timeout=30,
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            print(json.dumps(body["errors"]), file=sys.stderr)
            return 1
        runs = body["data"]["runs"]
        for edge in runs["edges"]:
            out.write(json.dumps(edge["node"]) + "\n")
        page = runs["pageInfo"]
        if not page["hasNextPage"]:
            break
        after = page["endCursor"]
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
