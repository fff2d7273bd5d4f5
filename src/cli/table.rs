//! Plain-text tables for the operator commands (`status`, `demo`).

/// The widest a cell is shown; longer text is cut with `…` (the JSON output has it whole).
pub const MAX_CELL: usize = 80;

/// `text` cut to [`MAX_CELL`] characters, with `…` when cut.
pub fn bounded(text: &str) -> String {
    if text.chars().count() <= MAX_CELL {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_CELL - 1).collect();
    cut.push('…');
    cut
}

/// Renders `rows` under `headers`, columns padded to their widest cell, two spaces apart; a
/// cell longer than [`MAX_CELL`] is cut. A missing value is shown as `-`.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| bounded(cell)).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            let width = widths.get(i).copied().unwrap_or(0);
            text.push_str(cell);
            text.extend(std::iter::repeat_n(
                ' ',
                width.saturating_sub(cell.chars().count()),
            ));
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().copied());
    for row in &rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// `value` or `-`.
pub fn cell(value: Option<&str>) -> String {
    value.filter(|v| !v.is_empty()).unwrap_or("-").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let text = render(
            &["A", "LONGER"],
            &[vec!["xyz".into(), "1".into()], vec!["q".into(), cell(None)]],
        );
        assert_eq!(text, "A    LONGER\nxyz  1\nq    -\n");
    }

    #[test]
    fn a_huge_cell_is_cut() {
        let text = render(&["A"], &[vec!["n".repeat(1 << 20)]]);
        assert!(text.chars().count() < 100, "{}", text.len());
        assert!(text.contains('…'));
    }
}
