//! What a photo on the wire must be: one complete baseline or progressive JPEG of at most
//! [`MAX_SIDE`] pixels on its long side (PROTOCOL.md "Photos"), judged from its segment
//! headers alone, without decoding a pixel.
//!
//! A JPEG is a sequence of marker segments: `FF D8` (start of image), segments of
//! `FF xx` + a big-endian length that counts itself, one frame header (`SOFn`) that gives the
//! size, one or more scans (`SOS`) each followed by entropy-coded bytes in which `FF` is escaped
//! as `FF 00` (or is a restart marker `FF D0..D7`), and `FF D9` (end of image) as the very last
//! two bytes. Whatever a device, the office or another phone later decodes has passed this walk,
//! so a photo cut off half-way, a 50,000 × 50,000 frame, a PNG or random bytes behind a JPEG
//! magic number never get stored.

/// The contract's long side, in pixels.
pub const MAX_SIDE: u32 = 1600;

/// A checked photo's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JpegSize {
    pub width: u32,
    pub height: u32,
}

/// Why bytes are not a contract photo. `code()` is the API's error code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhotoProblem {
    #[error("not a JPEG (it does not start with FF D8)")]
    NotJpeg,
    #[error("the JPEG ends before its end-of-image marker (truncated at byte {0})")]
    Truncated(usize),
    #[error("the JPEG is malformed at byte {at}: {what}")]
    Malformed { at: usize, what: &'static str },
    #[error("the JPEG has no frame header giving its size")]
    NoFrame,
    #[error("the JPEG has no image data")]
    NoScan,
    #[error("the photo is {width} × {height} px; at most {MAX_SIDE} px on the long side")]
    TooLarge { width: u32, height: u32 },
    #[error("{0} bytes follow the JPEG's end-of-image marker")]
    TrailingBytes(usize),
}

impl PhotoProblem {
    /// 415 for what is not a JPEG at all; 422 for a JPEG that breaks the contract.
    pub fn code(&self) -> &'static str {
        match self {
            PhotoProblem::NotJpeg => "unsupported_media_type",
            PhotoProblem::TooLarge { .. } => "photo_too_large",
            _ => "invalid_photo",
        }
    }
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

/// Frame headers: SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC).
fn is_frame(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// Walk the segments of `bytes`; the size if it is a contract photo.
pub fn check_jpeg(bytes: &[u8]) -> Result<JpegSize, PhotoProblem> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(PhotoProblem::NotJpeg);
    }
    let malformed = |at, what| PhotoProblem::Malformed { at, what };
    let mut size = None;
    let mut scans = 0u32;
    let mut at = 2;
    loop {
        // A marker: FF, any number of FF fill bytes, then the marker code.
        if at >= bytes.len() {
            return Err(PhotoProblem::Truncated(bytes.len()));
        }
        if bytes[at] != 0xFF {
            return Err(malformed(at, "a segment does not start with a marker"));
        }
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let Some(&marker) = bytes.get(at) else {
            return Err(PhotoProblem::Truncated(bytes.len()));
        };
        at += 1;
        match marker {
            0xD9 => {
                if scans == 0 {
                    return Err(PhotoProblem::NoScan);
                }
                let size = size.ok_or(PhotoProblem::NoFrame)?;
                return match bytes.len() - at {
                    0 => Ok(size),
                    n => Err(PhotoProblem::TrailingBytes(n)),
                };
            }
            0x00 | 0xD8 | 0xD0..=0xD7 => {
                return Err(malformed(at - 1, "a marker out of place"));
            }
            0x01 => continue,
            _ => {}
        }
        let len = be16(bytes, at).ok_or(PhotoProblem::Truncated(bytes.len()))?;
        if len < 2 {
            return Err(malformed(at, "a segment length below 2"));
        }
        let end = at + len;
        if end > bytes.len() {
            return Err(PhotoProblem::Truncated(bytes.len()));
        }
        if is_frame(marker) {
            if size.is_some() {
                return Err(malformed(at - 2, "a second frame header"));
            }
            // length, precision, height, width, components
            if len < 8 {
                return Err(malformed(at, "a frame header too short"));
            }
            let height = be16(bytes, at + 3).unwrap_or(0) as u32;
            let width = be16(bytes, at + 5).unwrap_or(0) as u32;
            if width == 0 || height == 0 {
                return Err(malformed(at, "a frame of zero width or height"));
            }
            if width.max(height) > MAX_SIDE {
                return Err(PhotoProblem::TooLarge { width, height });
            }
            size = Some(JpegSize { width, height });
        }
        at = end;
        if marker == 0xDA {
            if size.is_none() {
                return Err(PhotoProblem::NoFrame);
            }
            scans += 1;
            // Entropy-coded data runs to the next marker that is neither a stuffed FF 00 nor a
            // restart marker.
            let data_start = at;
            loop {
                let Some(ff) = bytes[at..].iter().position(|&b| b == 0xFF) else {
                    return Err(PhotoProblem::Truncated(bytes.len()));
                };
                at += ff;
                match bytes.get(at + 1) {
                    None => return Err(PhotoProblem::Truncated(bytes.len())),
                    Some(0x00) | Some(0xD0..=0xD7) => at += 2,
                    Some(_) => break,
                }
            }
            if at == data_start {
                return Err(malformed(at, "a scan with no data"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOI, a frame of w × h, a scan with `data`, EOI.
    fn minimal(w: u16, h: u16, data: &[u8]) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        b.extend([0xFF, 0xC0, 0, 11, 8]);
        b.extend(h.to_be_bytes());
        b.extend(w.to_be_bytes());
        b.extend([1, 1, 0x11, 0]);
        b.extend([0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0]);
        b.extend(data);
        b.extend([0xFF, 0xD9]);
        b
    }

    #[test]
    fn a_minimal_jpeg_passes_with_its_size() {
        assert_eq!(
            check_jpeg(&minimal(1600, 1200, &[1, 2, 0xFF, 0x00, 3, 0xFF, 0xD0, 4])),
            Ok(JpegSize {
                width: 1600,
                height: 1200
            })
        );
    }

    #[test]
    fn every_way_of_breaking_it_is_named() {
        let good = minimal(800, 600, &[1, 2, 3]);
        assert_eq!(check_jpeg(b"\x89PNG\r\n\x1a\n"), Err(PhotoProblem::NotJpeg));
        for cut in 2..good.len() {
            assert!(
                check_jpeg(&good[..cut]).is_err(),
                "cut at {cut} of {}",
                good.len()
            );
        }
        assert!(matches!(
            check_jpeg(&minimal(50_000, 50_000, &[1])),
            Err(PhotoProblem::TooLarge { .. })
        ));
        assert!(matches!(
            check_jpeg(&minimal(0, 10, &[1])),
            Err(PhotoProblem::Malformed { .. })
        ));
        let mut trailing = good.clone();
        trailing.extend([0; 5]);
        assert_eq!(check_jpeg(&trailing), Err(PhotoProblem::TrailingBytes(5)));
        let mut magic_then_noise = vec![0xFF, 0xD8, 0xFF, 0xE0];
        magic_then_noise.extend((0..5000u32).map(|i| (i % 251) as u8));
        magic_then_noise.extend([0xFF, 0xD9]);
        assert!(check_jpeg(&magic_then_noise).is_err());
        assert_eq!(
            check_jpeg(&[0xFF, 0xD8, 0xFF, 0xD9]),
            Err(PhotoProblem::NoScan)
        );
    }
}
