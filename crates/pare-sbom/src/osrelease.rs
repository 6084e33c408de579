//! `etc/os-release` (and `usr/lib/os-release`), per os-release(5).

use crate::model::Distro;

/// Parses `KEY=value` lines; values may be quoted.
pub fn parse(text: &str) -> Option<Distro> {
    let mut distro = Distro::default();
    for line in text.lines() {
        let Some((key, value)) = line.trim().split_once('=') else {
            continue;
        };
        let value = value
            .trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .to_string();
        match key {
            "ID" => distro.id = value,
            "VERSION_ID" => distro.version_id = Some(value),
            "VERSION_CODENAME" => distro.version_codename = Some(value),
            "PRETTY_NAME" => distro.pretty_name = Some(value),
            "ID_LIKE" => distro.id_like = value.split_whitespace().map(str::to_string).collect(),
            _ => {}
        }
    }
    (!distro.id.is_empty()).then_some(distro)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_debian() {
        let d = super::parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
        )
        .unwrap();
        assert_eq!(d.qualifier(), "debian-12");
        assert_eq!(
            d.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }
}
