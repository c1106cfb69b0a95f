//! The photo pipeline: what happens between the camera and a record's `photos` list.
//!
//! A phone photo is 3–12 MB with EXIF that holds the capture place and the phone's serial. The
//! pipeline turns it upright by its EXIF orientation, scales it to at most 1600 px on the long
//! side, encodes a JPEG at quality 80 without any metadata (capture time and place travel in the
//! record, not the file), makes a 256 px thumbnail for lists, and names both by the SHA-256 of
//! the full JPEG's bytes, which is also how the server deduplicates blobs.
//!
//! Hostile or broken input is refused with a [`PhotoError`] before it can cost memory: the
//! header's dimensions are checked against [`MAX_PIXELS`] before any pixel is decoded, and the
//! decoder runs under an allocation limit, so a 50,000 × 50,000 "decompression bomb" PNG of a few
//! hundred kilobytes fails in microseconds.
//!
//! [`process`] is pure CPU (run it off the UI thread); [`Store::add_photo`] stores the result.

use crate::Result;
use crate::store::Store;
use crate::time::ms;
use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use gridmate_model::PhotoRef;
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ExtendedColorType, ImageDecoder, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

/// Long side of the stored photo.
pub const MAX_SIDE: u32 = 1600;
pub const THUMB_SIDE: u32 = 256;
pub const JPEG_QUALITY: u8 = 80;
const THUMB_QUALITY: u8 = 75;
/// Largest accepted file: a 50 MP JPEG is about 25 MB.
pub const MAX_INPUT_BYTES: usize = 40 * 1024 * 1024;
/// Largest accepted image: 52 megapixels (a 50 MP phone camera at full resolution).
pub const MAX_PIXELS: u64 = 52_000_000;
/// Ceiling on what the decoder may allocate: the RGBA buffer of the largest accepted image.
const MAX_DECODER_ALLOC: u64 = MAX_PIXELS * 4 + 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PhotoError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {0} bytes, more than the {MAX_INPUT_BYTES} accepted")]
    FileTooLarge(usize),
    #[error("the image is {width}×{height}, more than {MAX_PIXELS} pixels")]
    TooManyPixels { width: u32, height: u32 },
    #[error("not an image (or not a JPEG, PNG or WebP)")]
    NotAnImage,
    #[error("{0} photos are not supported: the camera must deliver JPEG")]
    Unsupported(&'static str),
    #[error("the image is damaged or cut short: {0}")]
    Damaged(String),
}

/// A processed photo, ready to store.
#[derive(Clone, Debug)]
pub struct ProcessedPhoto {
    pub sha256: PhotoRef,
    pub jpeg: Vec<u8>,
    pub thumbnail: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// HEIF/HEIC (iPhone's default, and some Android cameras): an ISO-BMFF `ftyp` box with a HEIF
/// brand. No pure-Rust decoder exists; the platform camera layer converts to JPEG instead.
fn is_heif(bytes: &[u8]) -> bool {
    bytes.len() >= 12
        && &bytes[4..8] == b"ftyp"
        && matches!(
            &bytes[8..12],
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"mif1" | b"msf1" | b"avif"
        )
}

/// A JPEG whose last scan is not followed by an end-of-image marker was cut short. Decoders
/// happily fill the missing rows with grey; evidence photos must not be half grey.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let end = bytes.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    matches!((last_scan, end), (Some(s), Some(e)) if e > s)
}

fn damaged(e: impl std::fmt::Display) -> PhotoError {
    PhotoError::Damaged(e.to_string())
}

/// Decode, turn upright, scale, re-encode without metadata, hash. Pure CPU.
pub fn process(bytes: &[u8]) -> Result<ProcessedPhoto, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(PhotoError::FileTooLarge(bytes.len()));
    }
    if is_heif(bytes) {
        return Err(PhotoError::Unsupported("HEIC/HEIF"));
    }
    let format = image::guess_format(bytes).map_err(|_| PhotoError::NotAnImage)?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(PhotoError::NotAnImage);
    }
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(PhotoError::Damaged(
            "the JPEG has no end-of-image marker".into(),
        ));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODER_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(damaged)?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(PhotoError::TooManyPixels {
            width: w,
            height: h,
        });
    }
    if w == 0 || h == 0 {
        return Err(PhotoError::Damaged("zero-sized image".into()));
    }
    // A broken EXIF block must not cost the photo: upright-as-stored is the fallback.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(damaged)?;
    img.apply_orientation(orientation);
    let rgb = img.into_rgb8();
    let (w, h) = rgb.dimensions();
    let full = fit(
        Image::from_vec_u8(w, h, rgb.into_raw(), PixelType::U8x3).map_err(damaged)?,
        MAX_SIDE,
    )?;
    let thumb = fit(
        Image::from_vec_u8(
            full.width(),
            full.height(),
            full.buffer().to_vec(),
            PixelType::U8x3,
        )
        .map_err(damaged)?,
        THUMB_SIDE,
    )?;
    let jpeg = encode(&full, JPEG_QUALITY)?;
    let thumbnail = encode(&thumb, THUMB_QUALITY)?;
    let digest = Sha256::digest(&jpeg);
    let hex = gridmate_model::hex::encode(&digest);
    Ok(ProcessedPhoto {
        sha256: PhotoRef::parse(&hex).expect("a sha256 digest is 64 hex digits"),
        width: full.width(),
        height: full.height(),
        jpeg,
        thumbnail,
    })
}

/// Scale down to fit `side` on the long edge (never up), Lanczos3.
fn fit(src: Image<'static>, side: u32) -> Result<Image<'static>, PhotoError> {
    let (w, h) = (src.width(), src.height());
    let long = w.max(h);
    if long <= side {
        return Ok(src);
    }
    let scale = f64::from(side) / f64::from(long);
    let dw = ((f64::from(w) * scale).round() as u32).max(1);
    let dh = ((f64::from(h) * scale).round() as u32).max(1);
    let mut dst = Image::new(dw, dh, PixelType::U8x3);
    Resizer::new()
        .resize(
            &src,
            &mut dst,
            &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)),
        )
        .map_err(damaged)?;
    Ok(dst)
}

fn encode(img: &Image<'_>, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::with_capacity(img.buffer().len() / 8);
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode(
            img.buffer(),
            img.width(),
            img.height(),
            ExtendedColorType::Rgb8,
        )
        .map_err(damaged)?;
    Ok(out)
}

/// Where a stored photo lives.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredPhoto {
    pub sha256: PhotoRef,
    pub path: PathBuf,
    pub thumb_path: PathBuf,
}

/// Write a file so that it is either absent or complete: temp file, fsync, rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("part");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

impl Store {
    /// Keep a processed photo: files first (atomically), then the row, so a row never points at
    /// a missing file. Storing the same photo twice is harmless.
    pub fn add_photo(&mut self, p: &ProcessedPhoto) -> Result<StoredPhoto> {
        let path = self.photo_dir.join(format!("{}.jpg", p.sha256));
        let thumb_path = self.photo_dir.join(format!("{}.thumb.jpg", p.sha256));
        write_atomically(&path, &p.jpeg)?;
        write_atomically(&thumb_path, &p.thumbnail)?;
        self.conn.execute(
            "INSERT INTO photos (sha256, path, thumb_path, width, height, bytes, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(sha256) DO NOTHING",
            rusqlite::params![
                p.sha256.as_str(),
                path.to_string_lossy(),
                thumb_path.to_string_lossy(),
                p.width,
                p.height,
                p.jpeg.len() as i64,
                ms(chrono::Utc::now()),
            ],
        )?;
        Ok(StoredPhoto {
            sha256: p.sha256.clone(),
            path,
            thumb_path,
        })
    }

    /// Process and keep a photo in one call (for callers already off the UI thread).
    pub fn ingest_photo(&mut self, bytes: &[u8]) -> Result<StoredPhoto> {
        let processed = process(bytes)?;
        self.add_photo(&processed)
    }

    /// The stored files of a photo, if this device has it.
    pub fn photo(&self, sha256: &PhotoRef) -> Result<Option<StoredPhoto>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row(
                "SELECT path, thumb_path FROM photos WHERE sha256 = ?1",
                [sha256.as_str()],
                |r| {
                    Ok(StoredPhoto {
                        sha256: sha256.clone(),
                        path: PathBuf::from(r.get::<_, String>(0)?),
                        thumb_path: PathBuf::from(r.get::<_, String>(1)?),
                    })
                },
            )
            .optional()?)
    }
}
