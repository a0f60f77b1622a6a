//! The seam between the file calls and ION's file operations: making an attachment row (and
//! the pre-signed URL its bytes go to), reading one (for its `downloadUrl`), deleting one.
//!
//! Everything [`files`](super) knows of ION's GraphQL API for files is here, as three
//! hand-written operations over the shipped schema. ION's shipped schema has one upload flow:
//! `createFileAttachment(input: {entityId, filename})` answers the row, its `contentType` and
//! an `uploadUrl`, and the bytes are `PUT` there. A flow that asks for the URL first and
//! creates the row after the upload (with the stored object's key) would replace
//! [`create`] and move the row's creation after the `PUT`; the storage side
//! (`files/storage.rs`) would not change.

use graphql_client::{GraphQLQuery, QueryBody};
use serde::{Deserialize, Serialize};

use crate::{Client, Error, Id, Operation, OperationKind};

/// An attachment row as these operations select it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Row {
    pub(crate) id: i64,
    pub(crate) filename: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) download_url: Option<String>,
}

/// What `createFileAttachment` answered.
#[derive(Debug)]
pub(crate) struct Created {
    pub(crate) row: Row,
    pub(crate) upload_url: Option<String>,
}

/// Makes the attachment row for `file_name` on `entity`. `Ok(None)`: ION answered without a
/// row.
pub(crate) async fn create(
    client: &Client,
    entity: &Id,
    file_name: &str,
) -> Result<Option<Created>, Error> {
    let data = client
        .execute::<CreateFileAttachment>(CreateVariables {
            entity_id: entity.clone(),
            filename: file_name.to_owned(),
        })
        .await?;
    Ok(data.create_file_attachment.and_then(|payload| {
        let row = payload.file_attachment?;
        Some(Created {
            row,
            upload_url: payload.upload_url,
        })
    }))
}

/// Reads attachment `id`; `Ok(None)` when there is none.
pub(crate) async fn read(client: &Client, id: i64) -> Result<Option<Row>, Error> {
    let data = client
        .execute::<FileAttachment>(ReadVariables { id: Id::from(id) })
        .await?;
    Ok(data.file_attachment)
}

/// Deletes attachment `id` from `entity`.
pub(crate) async fn delete(client: &Client, id: i64, entity: &Id) -> Result<(), Error> {
    client
        .execute::<DeleteFileAttachment>(DeleteVariables {
            file_attachment_id: Id::from(id),
            entity_id: entity.clone(),
        })
        .await?;
    Ok(())
}

/// One operation of this seam: graphql_client's `GraphQLQuery` (what `Client::execute` takes)
/// and ion-client's `Operation` (name, kind, document), written once for each.
macro_rules! file_operation {
    ($ty:ident, $kind:ident, $vars:ty, $data:ty, $name:literal, $query:expr
    ) => {
        impl GraphQLQuery for $ty {
            type Variables = $vars;
            type ResponseData = $data;
            fn build_query(variables: $vars) -> QueryBody<$vars> {
                QueryBody {
                    variables,
                    query: Self::QUERY,
                    operation_name: Self::NAME,
                }
            }
        }

        impl Operation for $ty {
            const NAME: &'static str = $name;
            const KIND: OperationKind = OperationKind::$kind;
            const QUERY: &'static str = $query;
        }
    };
}

/// `createFileAttachment`.
pub(crate) struct CreateFileAttachment;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateVariables {
    entity_id: Id,
    filename: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateData {
    create_file_attachment: Option<CreatePayload>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatePayload {
    file_attachment: Option<Row>,
    upload_url: Option<String>,
}

file_operation!(
    CreateFileAttachment,
    Mutation,
    CreateVariables,
    CreateData,
    "CreateFileAttachment",
    "mutation CreateFileAttachment($entityId: ID!, $filename: String!) {\
        \n  createFileAttachment(input: {entityId: $entityId, filename: $filename}) {\
        \n    fileAttachment { id filename contentType downloadUrl }\
        \n    uploadUrl\
        \n  }\
        \n}\n"
);

/// `fileAttachment(id:)`.
pub(crate) struct FileAttachment;

#[derive(Debug, Serialize)]
pub(crate) struct ReadVariables {
    id: Id,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReadData {
    file_attachment: Option<Row>,
}

file_operation!(
    FileAttachment,
    Query,
    ReadVariables,
    ReadData,
    "FileAttachment",
    "query FileAttachment($id: ID!) {\
        \n  fileAttachment(id: $id) { id filename contentType downloadUrl }\
        \n}\n"
);

/// `deleteFileAttachment`.
pub(crate) struct DeleteFileAttachment;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteVariables {
    file_attachment_id: Id,
    entity_id: Id,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeleteData {
    #[allow(dead_code, reason = "selected so the answer is checked, not read")]
    delete_file_attachment: Option<serde::de::IgnoredAny>,
}

file_operation!(
    DeleteFileAttachment,
    Mutation,
    DeleteVariables,
    DeleteData,
    "DeleteFileAttachment",
    "mutation DeleteFileAttachment($fileAttachmentId: ID!, $entityId: ID!) {\
        \n  deleteFileAttachment(input: {fileAttachmentId: $fileAttachmentId, entityId: $entityId}) {\
        \n    fileAttachmentId\
        \n  }\
        \n}\n"
);

#[cfg(test)]
mod tests {
    use super::*;

    /// The three documents validate against the shipped schema.
    #[test]
    fn the_documents_fit_the_shipped_schema() {
        let sdl = include_str!("../../schema/ion.graphql");
        let schema = apollo_compiler::Schema::parse_and_validate(sdl, "ion.graphql")
            .expect("the shipped schema is valid");
        for (name, query) in [
            (CreateFileAttachment::NAME, CreateFileAttachment::QUERY),
            (FileAttachment::NAME, FileAttachment::QUERY),
            (DeleteFileAttachment::NAME, DeleteFileAttachment::QUERY),
        ] {
            let document = apollo_compiler::ExecutableDocument::parse_and_validate(
                &schema,
                query,
                "files.graphql",
            );
            assert!(document.is_ok(), "{name}: {:?}", document.err());
        }
    }
}
