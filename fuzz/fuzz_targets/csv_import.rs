//! The CSV file of a bulk invitation: never a panic, and the rows' line
//! numbers start after the header and only grow.
#![no_main]

use gardien_service::import_file_lines;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(lines) = import_file_lines(bytes) {
        assert!(!lines.is_empty());
        assert!(lines[0] >= 2, "{lines:?}");
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "{lines:?}");
    }
});
