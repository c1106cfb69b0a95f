//! The photo pipeline on real images made here: orientation, size, EXIF stripped, hashing, and
//! every kind of bad input refused with a clear error and bounded memory.

use gridmate_device::Store;
use gridmate_device::photos::{self, PhotoError};
use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder, Rgb, RgbImage};
use sha2::{Digest, Sha256};
use std::io::Write;

#[path = "../../../tests/support/exif.rs"]
mod exif;
use exif::{exif_orientation, with_app1};

/// A w×h photo whose top-left quadrant is red and the rest blue, so rotation can be seen.
fn photo(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        if x < w / 2 && y < h / 2 {
            Rgb([220, 20, 20])
        } else {
            Rgb([20, 40, 200])
        }
    })
}

fn jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

fn png(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

fn px(jpeg: &[u8], x: u32, y: u32) -> [u8; 3] {
    let img = image::load_from_memory(jpeg).unwrap().to_rgb8();
    img.get_pixel(x, y).0
}

fn is_red(p: [u8; 3]) -> bool {
    p[0] > 150 && p[2] < 100
}

#[test]
fn a_phone_photo_comes_out_upright_small_and_without_exif() {
    // A 4000×3000 sensor image that the phone says must be turned 90° clockwise (EXIF 6).
    let raw = with_app1(&jpeg(&photo(4000, 3000)), &exif_orientation(6));
    assert!(raw.windows(4).any(|w| w == b"Exif"));
    let p = photos::process(&raw).unwrap();
    assert_eq!(
        (p.width, p.height),
        (1200, 1600),
        "upright portrait, long side 1600"
    );
    let out = image::load_from_memory(&p.jpeg).unwrap();
    assert_eq!((out.width(), out.height()), (1200, 1600));
    // The red top-left quadrant of the sensor image is at the top right once upright.
    assert!(
        is_red(px(&p.jpeg, 1100, 100)),
        "{:?}",
        px(&p.jpeg, 1100, 100)
    );
    assert!(!is_red(px(&p.jpeg, 100, 100)));
    // No metadata survives.
    assert!(!p.jpeg.windows(4).any(|w| w == b"Exif"));
    assert!(!p.jpeg.windows(3).any(|w| w == b"GMX"));
    // Named by the hash of its bytes.
    let hex: String = Sha256::digest(&p.jpeg)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(p.sha256.as_str(), hex);
    // Thumbnail at 256 on the long side.
    let t = image::load_from_memory(&p.thumbnail).unwrap();
    assert_eq!((t.width(), t.height()), (192, 256));
    // A sensible size for a 1600 px JPEG at q80.
    assert!(p.jpeg.len() < 400_000, "{}", p.jpeg.len());
}

#[test]
fn every_exif_orientation_ends_upright() {
    // (orientation, where the red quadrant ends up on a 40×20 source: (x, y) to probe)
    let expectations = [
        (1, (5, 5)),   // as stored: top-left
        (2, (35, 5)),  // mirrored: top-right
        (3, (35, 15)), // 180°: bottom-right
        (4, (5, 15)),  // flipped: bottom-left
        (5, (5, 5)),   // transpose: 20×40, top-left
        (6, (15, 5)),  // 90° cw: 20×40, top-right
        (7, (15, 35)), // transverse: bottom-right
        (8, (5, 35)),  // 90° ccw: bottom-left
    ];
    for (o, (x, y)) in expectations {
        let raw = with_app1(&jpeg(&photo(40, 20)), &exif_orientation(o));
        let p = photos::process(&raw).unwrap();
        let rotated = o >= 5;
        assert_eq!(
            (p.width, p.height),
            if rotated { (20, 40) } else { (40, 20) },
            "orientation {o}"
        );
        assert!(
            is_red(px(&p.jpeg, x, y)),
            "orientation {o}: {:?}",
            px(&p.jpeg, x, y)
        );
    }
}

#[test]
fn small_pngs_are_kept_at_their_size_and_the_same_photo_hashes_the_same() {
    let raw = png(&photo(800, 600));
    let a = photos::process(&raw).unwrap();
    let b = photos::process(&raw).unwrap();
    assert_eq!((a.width, a.height), (800, 600), "never scaled up");
    assert_eq!(a.sha256, b.sha256, "deterministic");
    let other = photos::process(&png(&photo(801, 600))).unwrap();
    assert_ne!(a.sha256, other.sha256);
}

#[test]
fn stored_photos_are_files_named_by_their_hash() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let stored = store.ingest_photo(&jpeg(&photo(2000, 1500))).unwrap();
    let bytes = std::fs::read(&stored.path).unwrap();
    let hex: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, stored.sha256.as_str());
    assert!(
        stored
            .path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(&hex)
    );
    assert!(stored.thumb_path.exists());
    assert_eq!(store.photo(&stored.sha256).unwrap(), Some(stored.clone()));
    // Again: same name, no error, no second row.
    assert_eq!(
        store.ingest_photo(&jpeg(&photo(2000, 1500))).unwrap(),
        stored
    );
    assert!(
        std::fs::read_dir(dir.path().join("photos"))
            .unwrap()
            .all(|e| { !e.unwrap().file_name().to_string_lossy().ends_with(".part") })
    );
}

#[test]
fn broken_and_hostile_files_get_clear_errors() {
    let good = jpeg(&photo(640, 480));
    assert_eq!(photos::process(&[]).unwrap_err(), PhotoError::Empty);
    assert_eq!(
        photos::process(b"hello, this is a text file named IMG_0001.jpg").unwrap_err(),
        PhotoError::NotAnImage
    );
    assert_eq!(
        photos::process(b"%PDF-1.7\n%...").unwrap_err(),
        PhotoError::NotAnImage
    );
    // An iPhone HEIC: ftyp box with a HEIF brand.
    let heic = [&[0, 0, 0, 24][..], b"ftypheic", &[0, 0, 0, 0], b"mif1heic"].concat();
    assert!(matches!(
        photos::process(&heic).unwrap_err(),
        PhotoError::Unsupported(_)
    ));
    // Cut short at every tenth of the file.
    for tenth in 1..10 {
        let cut = &good[..good.len() * tenth / 10];
        let err = photos::process(cut).map(|p| p.sha256);
        assert!(
            matches!(err, Err(PhotoError::Damaged(_) | PhotoError::NotAnImage)),
            "cut at {tenth}/10: {err:?}"
        );
    }
    let good_png = png(&photo(640, 480));
    let cut = &good_png[..good_png.len() / 2];
    let err = photos::process(cut).map(|p| p.sha256);
    assert!(matches!(err, Err(PhotoError::Damaged(_))), "{err:?}");
    // A JPEG header followed by garbage.
    let mut garbage = good[..200].to_vec();
    garbage.extend(std::iter::repeat_n(0xA5u8, 5_000));
    assert!(photos::process(&garbage).is_err());
}

#[test]
fn a_huge_or_broken_exif_block_does_not_cost_the_photo() {
    let base = jpeg(&photo(640, 480));
    // 65,000 bytes of junk where the EXIF TIFF block should be.
    let junk: Vec<u8> = (0..65_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let p = photos::process(&with_app1(&base, &junk)).unwrap();
    assert_eq!((p.width, p.height), (640, 480));
    assert!(!p.jpeg.windows(4).any(|w| w == b"Exif"));
    // An orientation value that does not exist is ignored, not trusted.
    let p = photos::process(&with_app1(&base, &exif_orientation(77))).unwrap();
    assert_eq!((p.width, p.height), (640, 480));
}

/// A real decompression bomb: a 50,000 × 50,000 PNG (2.5 gigapixels) that compresses to a few
/// hundred kilobytes.
fn png_bomb() -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(kind);
        out.extend(data);
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend(crc.finalize().to_be_bytes());
    }
    let side = 50_000u32;
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(side.to_be_bytes());
    ihdr.extend(side.to_be_bytes());
    ihdr.extend([1, 0, 0, 0, 0]); // 1-bit greyscale
    chunk(&mut out, b"IHDR", &ihdr);
    let row = vec![0u8; 1 + (side as usize).div_ceil(8)];
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..side {
        z.write_all(&row).unwrap();
    }
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn a_decompression_bomb_is_refused_before_decoding_in_bounded_memory() {
    let bomb = png_bomb();
    assert!(bomb.len() < 1_000_000, "{}", bomb.len());
    // Run the pipeline in a child process so its peak memory is its own.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "bomb_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("GRIDMATE_BOMB", {
            let path =
                std::env::temp_dir().join(format!("gridmate-bomb-{}.png", std::process::id()));
            std::fs::write(&path, &bomb).unwrap();
            path
        })
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("BOMB ").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("{stdout}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields[0], "too_many_pixels", "{line}");
    let peak_kb: u64 = fields[1].parse().unwrap();
    assert!(peak_kb < 64 * 1024, "peak memory {peak_kb} kB");
}

#[test]
#[ignore = "child process of a_decompression_bomb_is_refused_before_decoding_in_bounded_memory"]
fn bomb_child() {
    let path = std::env::var("GRIDMATE_BOMB").expect("run by the bomb test");
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let verdict = match photos::process(&bytes) {
        Err(PhotoError::TooManyPixels {
            width: 50_000,
            height: 50_000,
        }) => "too_many_pixels",
        Err(_) => "other_error",
        Ok(_) => "decoded",
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap();
    println!("BOMB {verdict} {peak}");
}
