//! A phone camera's JPEG, as far as the photo pipeline cares: an APP1 EXIF segment saying how the
//! sensor image must be turned (Orientation) and carrying a tag that must not survive (Make).
//! Shared by the device's photo tests and the browser run (`#[path]` from the device crate).

/// Insert an APP1 EXIF segment right after SOI holding `tiff` (a TIFF-structured block).
pub fn with_app1(jpeg: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(payload);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A little-endian TIFF block with two IFD entries: Orientation (0x0112) = `o`, and Make
/// (0x010F) = "GMX", so that stripping is visible.
pub fn exif_orientation(o: u16) -> Vec<u8> {
    let mut t = vec![b'I', b'I', 42, 0, 8, 0, 0, 0];
    t.extend(2u16.to_le_bytes());
    t.extend(0x0112u16.to_le_bytes());
    t.extend(3u16.to_le_bytes());
    t.extend(1u32.to_le_bytes());
    t.extend(o.to_le_bytes());
    t.extend([0, 0]);
    // Make (0x010F), ASCII, 4 bytes inline: "GMX\0"
    t.extend(0x010Fu16.to_le_bytes());
    t.extend(2u16.to_le_bytes());
    t.extend(4u32.to_le_bytes());
    t.extend(b"GMX\0");
    t.extend(0u32.to_le_bytes());
    t
}
