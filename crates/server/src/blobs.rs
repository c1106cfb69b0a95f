//! Where photos live. A photo is named by its SHA-256 and never changes, so any store of named
//! byte strings will do: the server's own folder for a community (the default), or an
//! S3-compatible object store (MinIO, SeaweedFS, a cloud's) for a city, so that several server
//! processes share one set of photos and a photo uploaded through one is served by all.
//!
//! An upload arrives in parts (`PUT /blobs/{sha}` with `Content-Range`, resumable after a cut)
//! and is assembled as a *partial* beside the finished photos; only when every byte is there and
//! the whole hashes to its name and passes the photo check is it *kept* under its name. The
//! database, not the blob store, says which photos the server holds
//! ([`crate::store::ServerStore::blob_received`]): a photo is recorded only after it is kept.
//!
//! The API decides what is uploaded and who may read it; a blob store only holds bytes.

use async_trait::async_trait;
use axum::body::Bytes;
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("photo folder: {0}")]
    Io(#[from] std::io::Error),
    #[error("object store: {0}")]
    Objects(#[from] object_store::Error),
    #[error("blob store address {0:?}: expected s3://BUCKET?endpoint=URL[&region=R]")]
    Address(String),
}

pub type Result<T> = std::result::Result<T, BlobError>;

/// Photos by name, and uploads being assembled. Names are checked SHA-256 hex by the caller.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// A kept photo's bytes; `None` if there is none of that name.
    async fn read(&self, sha: &str) -> Result<Option<Bytes>>;
    /// How many bytes of an upload have arrived (0 when none has).
    async fn partial_len(&self, sha: &str) -> Result<u64>;
    /// Add a part at the end of an upload; returns its length now. The caller has checked that
    /// the part starts where the upload stands.
    async fn append(&self, sha: &str, part: Bytes) -> Result<u64>;
    /// Everything of an upload so far, to verify.
    async fn partial(&self, sha: &str) -> Result<Bytes>;
    /// Keep a verified upload under its name.
    async fn keep(&self, sha: &str) -> Result<()>;
    /// Drop an upload that failed verification.
    async fn discard(&self, sha: &str) -> Result<()>;
    /// Where the photos are, for the log at start-up (no credentials).
    fn describe(&self) -> String;
}

/// The photo store a `--blobs` address names: `s3://BUCKET?endpoint=http://host:port` (with
/// `region=`; keys from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`), or, absent, `dir`.
pub fn open(address: Option<&str>, dir: PathBuf) -> Result<Arc<dyn BlobStore>> {
    match address.filter(|a| !a.is_empty()) {
        None => Ok(Arc::new(BlobFolder::open(dir)?)),
        Some(a) => Ok(Arc::new(ObjectBlobs::s3(a)?)),
    }
}

/// Photos as files in a folder: `DIR/<sha>`, uploads in `DIR/partial/<sha>`. Each part is
/// appended and flushed to disk before it is acknowledged, and a finished upload is renamed into
/// place, so a photo on record is never half-written.
pub struct BlobFolder {
    dir: PathBuf,
}

impl BlobFolder {
    pub fn open(dir: PathBuf) -> Result<BlobFolder> {
        std::fs::create_dir_all(dir.join("partial"))?;
        Ok(BlobFolder { dir })
    }

    fn partial_path(&self, sha: &str) -> PathBuf {
        self.dir.join("partial").join(sha)
    }
}

fn missing_is_none<T>(r: std::io::Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[async_trait]
impl BlobStore for BlobFolder {
    async fn read(&self, sha: &str) -> Result<Option<Bytes>> {
        Ok(missing_is_none(tokio::fs::read(self.dir.join(sha)).await)?.map(Bytes::from))
    }

    async fn partial_len(&self, sha: &str) -> Result<u64> {
        let meta = missing_is_none(tokio::fs::metadata(self.partial_path(sha)).await)?;
        Ok(meta.map_or(0, |m| m.len()))
    }

    async fn append(&self, sha: &str, part: Bytes) -> Result<u64> {
        use tokio::io::AsyncWriteExt;
        let mut f = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.partial_path(sha))
            .await?;
        f.write_all(&part).await?;
        f.sync_all().await?;
        Ok(f.metadata().await?.len())
    }

    async fn partial(&self, sha: &str) -> Result<Bytes> {
        let so_far = missing_is_none(tokio::fs::read(self.partial_path(sha)).await)?;
        Ok(so_far.map(Bytes::from).unwrap_or_default())
    }

    async fn keep(&self, sha: &str) -> Result<()> {
        tokio::fs::rename(self.partial_path(sha), self.dir.join(sha)).await?;
        Ok(())
    }

    async fn discard(&self, sha: &str) -> Result<()> {
        missing_is_none(tokio::fs::remove_file(self.partial_path(sha)).await)?;
        Ok(())
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}

/// Photos in an object store: `<sha>`, uploads as `partial/<sha>`. An object cannot be appended
/// to, so a part rewrites its upload whole; a photo is at most
/// [`crate::api::MAX_BLOB_BYTES`] and phones send it in a few parts, so that is a few
/// megabytes rewritten at most, and any process can take the next part of an upload another
/// began.
pub struct ObjectBlobs {
    objects: Arc<dyn ObjectStore>,
    described: String,
}

impl ObjectBlobs {
    pub fn new(objects: Arc<dyn ObjectStore>, described: String) -> ObjectBlobs {
        ObjectBlobs { objects, described }
    }

    /// `s3://BUCKET?endpoint=URL[&region=R]`.
    pub fn s3(address: &str) -> Result<ObjectBlobs> {
        let bad = || BlobError::Address(address.to_string());
        let rest = address.strip_prefix("s3://").ok_or_else(bad)?;
        let (bucket, query) = rest.split_once('?').unwrap_or((rest, ""));
        let bucket = bucket.trim_end_matches('/');
        if bucket.is_empty() || bucket.contains('/') {
            return Err(bad());
        }
        let mut builder = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_region("us-east-1");
        let mut endpoint = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=').ok_or_else(bad)? {
                ("endpoint", url) => endpoint = Some(url.to_string()),
                ("region", region) => builder = builder.with_region(region),
                _ => return Err(bad()),
            }
        }
        if let Some(url) = &endpoint {
            // A store on the office's own network is reached by path (host/bucket/key) and
            // often over plain HTTP.
            builder = builder
                .with_endpoint(url)
                .with_allow_http(url.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        let objects = builder.build()?;
        let described = match endpoint {
            Some(url) => format!("s3://{bucket} at {url}"),
            None => format!("s3://{bucket}"),
        };
        Ok(ObjectBlobs::new(Arc::new(objects), described))
    }

    fn partial_path(sha: &str) -> ObjectPath {
        ObjectPath::from(format!("partial/{sha}"))
    }

    async fn get(&self, path: &ObjectPath) -> Result<Option<Bytes>> {
        match self.objects.get(path).await {
            Ok(got) => Ok(Some(got.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

#[async_trait]
impl BlobStore for ObjectBlobs {
    async fn read(&self, sha: &str) -> Result<Option<Bytes>> {
        self.get(&ObjectPath::from(sha)).await
    }

    async fn partial_len(&self, sha: &str) -> Result<u64> {
        match self.objects.head(&Self::partial_path(sha)).await {
            Ok(meta) => Ok(meta.size),
            Err(object_store::Error::NotFound { .. }) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    async fn append(&self, sha: &str, part: Bytes) -> Result<u64> {
        let path = Self::partial_path(sha);
        let whole = match self.get(&path).await? {
            Some(so_far) if !so_far.is_empty() => {
                let mut joined = Vec::with_capacity(so_far.len() + part.len());
                joined.extend_from_slice(&so_far);
                joined.extend_from_slice(&part);
                Bytes::from(joined)
            }
            _ => part,
        };
        let len = whole.len() as u64;
        self.objects.put(&path, whole.into()).await?;
        Ok(len)
    }

    async fn partial(&self, sha: &str) -> Result<Bytes> {
        Ok(self
            .get(&Self::partial_path(sha))
            .await?
            .unwrap_or_default())
    }

    async fn keep(&self, sha: &str) -> Result<()> {
        let partial = Self::partial_path(sha);
        self.objects.copy(&partial, &ObjectPath::from(sha)).await?;
        self.objects.delete(&partial).await?;
        Ok(())
    }

    async fn discard(&self, sha: &str) -> Result<()> {
        match self.objects.delete(&Self::partial_path(sha)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn describe(&self) -> String {
        self.described.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_s3_address_names_a_bucket_and_an_endpoint_and_nothing_else() {
        for bad in [
            "http://x",
            "s3://",
            "s3://a/b",
            "s3://a?endpoint",
            "s3://a?secret=1",
        ] {
            assert!(ObjectBlobs::s3(bad).is_err(), "{bad}");
        }
        let ok =
            ObjectBlobs::s3("s3://photos?endpoint=http://127.0.0.1:8333&region=cn-south").unwrap();
        assert_eq!(ok.describe(), "s3://photos at http://127.0.0.1:8333");
    }
}
