//! Opening the upload: the password-protected ZIP UIDAI hands out, with the share code as
//! its password, or the bare XML a user took out of it.
//!
//! UIDAI's ZIP holds one XML file encrypted with the traditional PKWARE cipher (ZipCrypto):
//! its FAQ says the file is extracted "using the password (share code)", and the
//! open-source readers of these files open them with Python's `zipfile`, which decrypts
//! ZipCrypto only. WinZip AES archives are accepted too, since re-packed files use it.
//!
//! Everything is in memory and bounded: the upload, the number of entries, and the
//! inflated size, which is read with a hard cap and never taken from the headers. A ZIP
//! whose entry inflates past the cap is a zip bomb.

use std::io::{Cursor, Read};

use ::zip::ZipArchive;
use ::zip::result::ZipError as RawZipError;

/// Limits on the upload.
#[derive(Clone, Copy, Debug)]
pub struct ZipLimits {
    /// The largest upload accepted, ZIP or XML (UIDAI's files are tens of kilobytes).
    pub max_upload: usize,
    /// The most entries a ZIP may list.
    pub max_entries: usize,
    /// The largest XML accepted once inflated.
    pub max_xml: usize,
}

impl Default for ZipLimits {
    fn default() -> Self {
        Self {
            max_upload: 2 * 1024 * 1024,
            max_entries: 4,
            max_xml: 2 * 1024 * 1024,
        }
    }
}

/// Why an upload could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ZipError {
    /// Larger than allowed.
    #[error("The file is too large. Upload the ZIP file you downloaded from UIDAI.")]
    TooLarge,
    /// Empty upload.
    #[error("No file was uploaded.")]
    Empty,
    /// Neither a ZIP nor an XML file, or a damaged ZIP.
    #[error("The file is not a ZIP or XML file from UIDAI, or it is damaged.")]
    Malformed,
    /// More entries than any UIDAI file has.
    #[error("The ZIP file holds more files than a UIDAI offline e-KYC file does.")]
    TooManyEntries,
    /// No `.xml` entry, or more than one.
    #[error("The ZIP file must hold exactly one XML file.")]
    NotOneXml,
    /// The share code does not open the ZIP.
    #[error(
        "The share code does not open this file. Enter the share code you chose when you downloaded it."
    )]
    WrongShareCode,
    /// The entry inflates past the cap.
    #[error("The file expands to far more than a UIDAI offline e-KYC file and was refused.")]
    ZipBomb,
    /// A compression or encryption method UIDAI does not use.
    #[error("The ZIP file uses a compression or encryption method that is not supported.")]
    Unsupported,
}

impl ZipError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::Empty => "empty_upload",
            Self::Malformed => "malformed_zip",
            Self::TooManyEntries => "too_many_entries",
            Self::NotOneXml => "not_one_xml",
            Self::WrongShareCode => "wrong_share_code",
            Self::ZipBomb => "zip_bomb",
            Self::Unsupported => "unsupported_zip",
        }
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// The XML bytes of an upload: the one `.xml` entry of a ZIP opened with `share_code`, or
/// the upload itself when it is an XML file.
pub fn open_upload(
    upload: &[u8],
    share_code: &str,
    limits: &ZipLimits,
) -> Result<Vec<u8>, ZipError> {
    if upload.len() > limits.max_upload {
        return Err(ZipError::TooLarge);
    }
    if upload.is_empty() {
        return Err(ZipError::Empty);
    }
    if upload.starts_with(ZIP_MAGIC) {
        return extract_xml(upload, share_code, limits);
    }
    if looks_like_xml(upload) {
        if upload.len() > limits.max_xml {
            return Err(ZipError::TooLarge);
        }
        return Ok(upload.to_vec());
    }
    Err(ZipError::Malformed)
}

/// An XML file starts, after an optional byte-order mark and whitespace, with `<`.
fn looks_like_xml(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'<')
}

/// The one `.xml` entry of a ZIP, decrypted with `share_code` when it is encrypted.
pub fn extract_xml(zip: &[u8], share_code: &str, limits: &ZipLimits) -> Result<Vec<u8>, ZipError> {
    if zip.len() > limits.max_upload {
        return Err(ZipError::TooLarge);
    }
    let mut archive = ZipArchive::new(Cursor::new(zip)).map_err(|e| match e {
        RawZipError::UnsupportedArchive(_) => ZipError::Unsupported,
        _ => ZipError::Malformed,
    })?;
    if archive.len() > limits.max_entries {
        return Err(ZipError::TooManyEntries);
    }
    let mut xml_index = None;
    for index in 0..archive.len() {
        let entry = archive
            .by_index_data(index)
            .map_err(|_| ZipError::Malformed)?;
        if entry.is_dir() {
            continue;
        }
        let is_xml = entry
            .name()
            .map(|n| n.to_ascii_lowercase().ends_with(".xml"))
            .unwrap_or(false);
        if is_xml {
            if xml_index.is_some() {
                return Err(ZipError::NotOneXml);
            }
            xml_index = Some(index);
        }
    }
    let index = xml_index.ok_or(ZipError::NotOneXml)?;
    let encrypted = archive
        .by_index_data(index)
        .map_err(|_| ZipError::Malformed)?
        .encrypted();
    // The declared size is a cheap first refusal; the read below is the real bound.
    let declared = archive
        .by_index_data(index)
        .map_err(|_| ZipError::Malformed)?
        .size();
    if declared > limits.max_xml as u64 {
        return Err(ZipError::ZipBomb);
    }
    let opened = if encrypted {
        archive.by_index_decrypt(index, share_code.as_bytes())
    } else {
        archive.by_index(index)
    };
    let entry = opened.map_err(|e| match e {
        RawZipError::InvalidPassword => ZipError::WrongShareCode,
        RawZipError::UnsupportedArchive(_) => ZipError::Unsupported,
        _ if encrypted => ZipError::WrongShareCode,
        _ => ZipError::Malformed,
    })?;
    let cap = limits.max_xml as u64 + 1;
    let mut out = Vec::new();
    match entry.take(cap).read_to_end(&mut out) {
        Ok(_) if out.len() as u64 >= cap => Err(ZipError::ZipBomb),
        Ok(_) => Ok(out),
        // ZipCrypto checks one byte of the password: a wrong share code passes that check
        // once in 256 and then fails here, on inflating or on the CRC.
        Err(_) if encrypted => Err(ZipError::WrongShareCode),
        Err(_) => Err(ZipError::Malformed),
    }
}
