"""The load layer: rule files, figures and configuration, validated and located."""
