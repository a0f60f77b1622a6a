"""Attaching a file to an ION entity by hand with `requests`: the script `ion attach` replaces.

Usage: attach_file.py FILE ENTITY_ID. It fetches a token, asks ION for an attachment row and its
pre-signed upload URL (`createFileAttachment`), then PUTs the file's bytes there with the content
type ION answered, streaming from the open file. Timed beside `ion attach FILE --to ENTITY_ID` by
`benches/processes/` against the same local emulator; it reads the same ION_* variables as `ion`
and never prints the token or the secret.
"""

import json
import os
import sys

import requests

CREATE = """
mutation CreateFileAttachment($entityId: ID!, $filename: String!) {
  createFileAttachment(input: {entityId: $entityId, filename: $filename}) {
    fileAttachment { id filename contentType }
    uploadUrl
  }
}
"""


def main(path, entity_id):
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
    created = requests.post(
        graphql_url,
        json={
            "query": CREATE,
            "operationName": "CreateFileAttachment",
            "variables": {"entityId": entity_id, "filename": os.path.basename(path)},
        },
        headers={"Authorization": "Bearer " + token.json()["access_token"]},
        timeout=30,
    )
    created.raise_for_status()
    body = created.json()
    if body.get("errors"):
        print(json.dumps(body["errors"]), file=sys.stderr)
        return 1
    payload = body["data"]["createFileAttachment"]
    attachment = payload["fileAttachment"]
    # A file object makes requests send Content-Length and stream the bytes.
    with open(path, "rb") as f:
        put = requests.put(
            payload["uploadUrl"],
            data=f,
            headers={"Content-Type": attachment["contentType"]},
            timeout=300,
        )
    put.raise_for_status()
    print(json.dumps(attachment))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
