//! Reading an uploaded users file (CSV or XLSX) into its header row and data rows of
//! text cells, with each row's line number. XLSX is checked for decompression bombs
//! before anything is inflated.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};

use crate::domain::transfer::{detect_delimiter, unneutralise, FileFormat};

/// Largest total uncompressed size of an XLSX file's parts.
pub const MAX_XLSX_INFLATED: u64 = 1024 * 1024 * 1024;
/// Largest compression ratio of one XLSX part (real sheets stay well under 100).
const MAX_RATIO: u64 = 200;
/// Most columns a users file may have (the built-in ones and custom fields are a few
/// dozen); a wider file is the wrong file, refused before its cells are kept.
pub const MAX_COLUMNS: usize = 1000;
/// Longest cell, in bytes (a note of a few pages fits).
pub const MAX_CELL_BYTES: usize = 64 * 1024;
/// Longest line of a CSV file, in bytes: checked before the CSV reader, which keeps
/// a whole row in memory (a gigabyte of text without a line break would be one row).
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;
/// Largest file the command line reads (uploads have their own, smaller limit).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024 * 1024;

/// A users file as rows of text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    /// (line number in the file, cells) of each non-empty data row.
    pub rows: Vec<(u64, Vec<String>)>,
}

/// Why a file cannot be read; the message is for the admin.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FileError(pub String);

/// Reads `data` as `format`.
pub fn read(data: &[u8], format: FileFormat) -> Result<Table, FileError> {
    match format {
        FileFormat::Csv => read_csv(data),
        FileFormat::Xlsx => read_xlsx(data),
    }
}

/// A row of `cells` at `line` that no users file has: too many columns or a cell too
/// long. Checked per row, so the first such row stops the reading.
fn implausible_row(line: u64, cells: usize, longest: usize) -> Option<FileError> {
    if cells > MAX_COLUMNS {
        return Some(FileError(format!(
            "Line {line} of the file has {cells} columns; a users file has at most {MAX_COLUMNS}. Is it the right file?"
        )));
    }
    (longest > MAX_CELL_BYTES).then(|| {
        FileError(format!(
            "Line {line} of the file has a cell of {} KB; a cell may hold at most {} KB. Is it the right file?",
            longest / 1024,
            MAX_CELL_BYTES / 1024
        ))
    })
}

/// UTF-16 (or UTF-32) text, told by its byte-order mark or by the zero bytes every
/// other byte of plain text has in it.
fn is_utf16(data: &[u8]) -> bool {
    if data.starts_with(&[0xff, 0xfe]) || data.starts_with(&[0xfe, 0xff]) {
        return true;
    }
    let head = &data[..data.len().min(1024)];
    head.len() >= 4 && head.iter().filter(|b| **b == 0).count() * 4 >= head.len()
}

/// The first line longer than [`MAX_LINE_BYTES`], as (line number, length); lines end
/// at LF, CRLF or a lone CR (old Mac files), as the CSV reader reads them.
fn overlong_line(data: &[u8]) -> Option<(u64, usize)> {
    let (mut line, mut start) = (1u64, 0usize);
    while let Some(offset) = data[start..]
        .iter()
        .position(|b| matches!(b, b'\n' | b'\r'))
    {
        let end = start + offset;
        if offset > MAX_LINE_BYTES {
            return Some((line, offset));
        }
        let crlf = data[end] == b'\r' && data.get(end + 1) == Some(&b'\n');
        start = end + if crlf { 2 } else { 1 };
        line += 1;
    }
    let rest = data.len() - start;
    (rest > MAX_LINE_BYTES).then_some((line, rest))
}

fn read_csv(data: &[u8]) -> Result<Table, FileError> {
    if is_utf16(data) {
        return Err(FileError(
            "The CSV file is UTF-16 text (Excel's \"Unicode text\"). Save it as \"CSV UTF-8\" and upload it again."
                .into(),
        ));
    }
    if let Some((line, len)) = overlong_line(data) {
        return Err(FileError(format!(
            "Line {line} of the CSV file is {} MB long without a line break; a row may be at most {} MB. Is it the right file?",
            len / (1024 * 1024),
            MAX_LINE_BYTES / (1024 * 1024)
        )));
    }
    let data = data.strip_prefix("\u{feff}".as_bytes()).unwrap_or(data);
    let head = &data[..data.len().min(64 * 1024)];
    let delimiter = detect_delimiter(&String::from_utf8_lossy(head));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(data);
    let mut table = Table::default();
    let mut record = csv::StringRecord::new();
    let mut first = true;
    // Line numbers counted by hand: a record's line is one more than the line breaks
    // before its first byte (a quoted cell may span lines).
    let (mut counted_to, mut line) = (0usize, 1u64);
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                let what = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => {
                        "is not UTF-8 text. Save the file as \"CSV UTF-8\" and upload it again"
                            .to_string()
                    }
                    _ => format!("cannot be read: {e}"),
                };
                return Err(FileError(format!("Line {line} of the CSV file {what}.")));
            }
        }
        // The reported start may sit before the previous record's terminator (and any
        // blank lines the reader skipped).
        let mut start = record.position().map_or(counted_to, |p| p.byte() as usize);
        while matches!(data.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start > counted_to {
            // As overlong_line counts: CRLF is one break, a lone CR another.
            let end = start.min(data.len());
            line += (counted_to..end)
                .filter(|&i| match data[i] {
                    b'\n' => true,
                    b'\r' => data.get(i + 1) != Some(&b'\n'),
                    _ => false,
                })
                .count() as u64;
            counted_to = start;
        }
        let longest = record.iter().map(str::len).max().unwrap_or(0);
        if let Some(refused) = implausible_row(line, record.len(), longest) {
            return Err(refused);
        }
        let cells: Vec<String> = record.iter().map(|c| unneutralise(c).to_string()).collect();
        if first {
            table.headers = cells;
            first = false;
        } else if cells.iter().any(|c| !c.trim().is_empty()) {
            table.rows.push((line, cells));
        }
    }
    if first {
        return Err(FileError("The file is empty.".into()));
    }
    Ok(table)
}

/// Refuses a zip whose parts would inflate past [`MAX_XLSX_INFLATED`] or by an
/// implausible ratio, reading only the central directory.
fn check_zip(data: &[u8]) -> Result<(), FileError> {
    let not_xlsx = || {
        FileError(
            "The file is not a valid XLSX workbook (save it from Excel or LibreOffice as .xlsx)."
                .into(),
        )
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(data)).map_err(|_| not_xlsx())?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|_| not_xlsx())?;
        let size = entry.size();
        total = total.saturating_add(size);
        if size > 10 * 1024 * 1024 && size / entry.compressed_size().max(1) > MAX_RATIO {
            return Err(FileError(format!(
                "The XLSX file's part {} would inflate {} times (to {} MB); a real workbook does not. It was not read.",
                entry.name().unwrap_or_default(),
                size / entry.compressed_size().max(1),
                size / (1024 * 1024)
            )));
        }
    }
    if total > MAX_XLSX_INFLATED {
        return Err(FileError(format!(
            "The XLSX file would inflate to {} MB, more than the {} MB allowed. Split it or upload CSV.",
            total / (1024 * 1024),
            MAX_XLSX_INFLATED / (1024 * 1024)
        )));
    }
    // The sizes above are what the zip's headers claim. Each part is inflated once
    // into nothing, stopping one byte past its claim, so a part that lies about its
    // size is refused before the workbook reader trusts it (memory stays flat).
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|_| not_xlsx())?;
        let claimed = entry.size();
        let name = entry.name().map(|n| n.to_string()).unwrap_or_default();
        let inflated = std::io::copy(&mut (&mut entry).take(claimed + 1), &mut std::io::sink())
            .map_err(|_| {
                FileError(format!(
                    "The XLSX file's part {name} cannot be read: it is damaged, cut short, or larger than its header says. Save it again from Excel or LibreOffice and upload it."
                ))
            })?;
        if inflated > claimed {
            return Err(FileError(format!(
                "The XLSX file's part {name} holds more than its header says ({claimed} bytes); a real workbook does not. It was not read."
            )));
        }
    }
    Ok(())
}

/// Most cells an XLSX sheet may hold (a million users of 20 columns).
const MAX_CELLS: usize = 20_000_000;

/// Reads the first worksheet cell by cell, keeping only the cells that hold
/// something: a sheet that names a far corner (A1 and XFD1048576) costs two cells,
/// not the grid between them, and a cell past [`MAX_COLUMNS`] stops the reading.
fn read_xlsx(data: &[u8]) -> Result<Table, FileError> {
    check_zip(data)?;
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(data))
        .map_err(|e| FileError(format!("The XLSX file cannot be opened: {e}.")))?;
    let first = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| FileError("The XLSX file has no worksheet.".into()))?;
    let unreadable =
        |e: calamine::XlsxError| FileError(format!("The first worksheet cannot be read: {e}."));
    let mut reader = workbook
        .worksheet_cells_reader(&first)
        .map_err(unreadable)?;
    // Row number -> cells by column (left of a row's first cell: empty).
    let mut rows: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    let mut kept = 0usize;
    while let Some(cell) = reader.next_cell().map_err(unreadable)? {
        let (row, col) = cell.get_position();
        let line = u64::from(row) + 1;
        if let Some(refused) = implausible_row(line, col as usize + 1, 0) {
            return Err(refused);
        }
        let text = cell_text(&Data::from(cell.get_value().clone()));
        if let Some(refused) = implausible_row(line, 0, text.len()) {
            return Err(refused);
        }
        if text.trim().is_empty() {
            continue;
        }
        kept += 1;
        if kept > MAX_CELLS {
            return Err(FileError(format!(
                "The XLSX file holds more than {MAX_CELLS} cells. Split it into smaller files."
            )));
        }
        let cells = rows.entry(row).or_default();
        if cells.len() <= col as usize {
            cells.resize(col as usize + 1, String::new());
        }
        cells[col as usize] = text;
    }
    let mut rows = rows.into_iter();
    let Some((_, headers)) = rows.next() else {
        return Err(FileError("The first worksheet is empty.".into()));
    };
    Ok(Table {
        headers,
        rows: rows
            .map(|(row, cells)| (u64::from(row) + 1, cells))
            .collect(),
    })
}

/// A typed XLSX cell as the text the cell parsers read.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // Integral numbers (a phone typed as a number, an id) lose no digits.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_else(|| d.as_f64().to_string()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Reads at most `limit` bytes from `reader`, or says the file is too large.
pub fn read_limited(mut reader: impl Read, limit: u64) -> Result<Vec<u8>, FileError> {
    let mut data = Vec::new();
    reader
        .by_ref()
        .take(limit + 1)
        .read_to_end(&mut data)
        .map_err(|e| FileError(format!("The file cannot be read: {e}.")))?;
    if data.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(data)
}

/// The message for an upload over the size limit.
pub fn too_large(limit: u64) -> FileError {
    FileError(format!(
        "The file is larger than {} MB, the most an upload may be. Split it into smaller files.",
        limit / (1024 * 1024)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_semicolons_quotes_and_blank_lines() {
        let text =
            "\u{feff}Email;First Name\r\n\"a@x.io\";\"Smith; Jr\"\r\n\r\n;\r\nb@x.io;'=1+1\r\n";
        let t = read(text.as_bytes(), FileFormat::Csv).expect("reads");
        assert_eq!(t.headers, vec!["Email", "First Name"]);
        assert_eq!(
            t.rows,
            vec![
                (2, vec!["a@x.io".to_string(), "Smith; Jr".to_string()]),
                (5, vec!["b@x.io".to_string(), "=1+1".to_string()]),
            ],
            "blank rows are skipped, line numbers kept, neutralisation undone"
        );
    }

    /// Found by the csv_reader fuzz target: rows after a lone CR were numbered as the
    /// line before them.
    #[test]
    fn csv_lines_broken_by_a_lone_cr_are_numbered_like_any_other() {
        let text = "email,first_name\ra@x.io,Ana\r\nb@x.io,Bo\rc@x.io,\"Cy\r\nCy\"\nd@x.io,Di\n";
        let t = read(text.as_bytes(), FileFormat::Csv).expect("reads");
        let lines: Vec<u64> = t.rows.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, vec![2, 3, 4, 6], "{:?}", t.rows);
    }

    #[test]
    fn csv_that_is_not_utf8_names_the_line() {
        let mut data = b"email,first_name\na@x.io,Ren".to_vec();
        data.extend([0xe9, b'\n']);
        let err = read(&data, FileFormat::Csv).unwrap_err();
        assert!(err.0.contains("Line 2") && err.0.contains("UTF-8"), "{err}");
    }

    #[test]
    fn empty_files_are_refused() {
        assert!(read(b"", FileFormat::Csv).unwrap_err().0.contains("empty"));
        assert!(read(b"not a zip", FileFormat::Xlsx)
            .unwrap_err()
            .0
            .contains("not a valid XLSX"));
    }

    #[test]
    fn xlsx_cells_become_text_and_a_zip_bomb_is_refused() {
        use rust_xlsxwriter::Workbook;
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "email").unwrap();
        ws.write_string(0, 1, "phone").unwrap();
        ws.write_string(0, 2, "email_opt_in").unwrap();
        ws.write_string(0, 3, "balance").unwrap();
        ws.write_string(1, 0, "a@x.io").unwrap();
        ws.write_number(1, 1, 46701234567.0).unwrap();
        ws.write_boolean(1, 2, true).unwrap();
        ws.write_number(1, 3, 12.5).unwrap();
        let data = wb.save_to_buffer().unwrap();
        let t = read(&data, FileFormat::Xlsx).expect("reads");
        assert_eq!(t.headers, vec!["email", "phone", "email_opt_in", "balance"]);
        assert_eq!(
            t.rows,
            vec![(
                2,
                vec![
                    "a@x.io".into(),
                    "46701234567".into(),
                    "yes".into(),
                    "12.5".into()
                ]
            )]
        );

        let mut bomb = Vec::new();
        {
            use std::io::Write;
            let mut z = zip::ZipWriter::new(Cursor::new(&mut bomb));
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            z.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
            let zeros = vec![b'0'; 1024 * 1024];
            for _ in 0..64 {
                z.write_all(&zeros).unwrap();
            }
            z.finish().unwrap();
        }
        assert!(
            bomb.len() < 1024 * 1024,
            "the bomb is small: {}",
            bomb.len()
        );
        let err = read(&bomb, FileFormat::Xlsx).unwrap_err();
        assert!(err.0.contains("inflate"), "{err}");
    }

    #[test]
    fn hostile_csv_files_are_refused_naming_what_is_wrong() {
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(
                "email,first_name\r\na@x.io,Ada\r\n"
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes),
            )
            .collect();
        let no_bom: Vec<u8> = "email,first_name\r\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        let wide = format!("email,{}\na@x.io\n", vec!["x"; 1_000_000].join(","));
        let long_cell = format!("email,note\na@x.io,{}\n", "n".repeat(MAX_CELL_BYTES + 1));
        for (what, data, says) in [
            ("UTF-16 with a BOM", utf16, "UTF-16"),
            ("UTF-16 without one", no_bom, "UTF-16"),
            ("a million columns", wide.into_bytes(), "1000001 columns"),
            ("a 64 KB cell", long_cell.into_bytes(), "Line 2"),
            (
                "CRLF counts as one line break",
                format!("email\r\na@x.io\r\n{}\r\n", "x".repeat(5 * 1024 * 1024)).into_bytes(),
                "Line 3 of the CSV file is 5 MB long",
            ),
            (
                "a file of CR line breaks is read by lines",
                format!("email\r{}\r", "x".repeat(5 * 1024 * 1024)).into_bytes(),
                "Line 2 of the CSV file is 5 MB long",
            ),
            (
                "a 5 MB line",
                format!("email\n{}\n", "x".repeat(5 * 1024 * 1024)).into_bytes(),
                "Line 2 of the CSV file is 5 MB long",
            ),
        ] {
            let err = read(&data, FileFormat::Csv).expect_err(what);
            assert!(err.0.contains(says), "{what}: {err}");
        }
        let fine = format!("email,note\na@x.io,{}\n", "n".repeat(MAX_CELL_BYTES));
        assert!(
            read(fine.as_bytes(), FileFormat::Csv).is_ok(),
            "a 64 KB cell is fine"
        );
    }

    /// A zip whose one part inflates to `actual` bytes while its headers claim `claimed`.
    fn lying_zip(actual: usize, claimed: u32) -> Vec<u8> {
        use std::io::Write;
        let mut data = Vec::new();
        {
            let mut z = zip::ZipWriter::new(Cursor::new(&mut data));
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            z.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
            z.write_all(&vec![b'<'; actual]).unwrap();
            z.finish().unwrap();
        }
        // The uncompressed size sits at offset 22 of the local header and 24 of the
        // central directory entry (signatures PK\x03\x04 and PK\x01\x02).
        let put = |data: &mut Vec<u8>, sig: &[u8], offset: usize| {
            let at = data.windows(4).position(|w| w == sig).expect("signature");
            data[at + offset..at + offset + 4].copy_from_slice(&claimed.to_le_bytes());
        };
        put(&mut data, b"PK\x03\x04", 22);
        put(&mut data, b"PK\x01\x02", 24);
        data
    }

    #[test]
    fn xlsx_parts_that_lie_about_their_size_or_are_cut_short_are_refused() {
        // (The zip reader itself notices the lie at the claimed size, or we do.)
        let err = read(&lying_zip(8 * 1024 * 1024, 1000), FileFormat::Xlsx).unwrap_err();
        assert!(
            err.0.contains("larger than its header says")
                || err.0.contains("more than its header says"),
            "{err}"
        );

        use rust_xlsxwriter::Workbook;
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for r in 0..2000 {
            ws.write_string(r, 0, format!("user{r}@x.io")).unwrap();
        }
        let whole = wb.save_to_buffer().unwrap();
        for cut in [whole.len() / 2, whole.len() - 30] {
            let err = read(&whole[..cut], FileFormat::Xlsx).unwrap_err();
            assert!(
                err.0.contains("not a valid XLSX") || err.0.contains("cut short"),
                "cut at {cut}: {err}"
            );
        }
    }

    #[test]
    fn an_xlsx_naming_a_far_corner_is_refused_without_its_grid() {
        use rust_xlsxwriter::Workbook;
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "email").unwrap();
        ws.write_string(1_048_575, 16_383, "far").unwrap();
        let data = wb.save_to_buffer().unwrap();
        let err = read(&data, FileFormat::Xlsx).unwrap_err();
        assert!(
            err.0.contains("Line 1048576") && err.0.contains("16384 columns"),
            "{err}"
        );

        // Only the cells that hold something are kept, at their lines and columns.
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "email").unwrap();
        ws.write_string(0, 2, "note").unwrap();
        ws.write_string(2, 0, "a@x.io").unwrap();
        ws.write_string(3, 2, "n").unwrap();
        let t = read(&wb.save_to_buffer().unwrap(), FileFormat::Xlsx).expect("reads");
        assert_eq!(t.headers, vec!["email", "", "note"]);
        assert_eq!(
            t.rows,
            vec![
                (3, vec!["a@x.io".to_string()]),
                (4, vec![String::new(), String::new(), "n".to_string()])
            ]
        );
    }

    #[test]
    fn uploads_over_the_limit_are_refused() {
        assert_eq!(read_limited(&b"12345"[..], 5).unwrap(), b"12345");
        assert!(read_limited(&b"123456"[..], 5).is_err());
    }
}
