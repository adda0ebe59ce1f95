#pragma once
// The studio's dark theme: Fusion style with a dark palette. Palette colours (not a style sheet)
// so every widget, including the disabled state and tooltips, follows one definition and scales
// on high-DPI screens.

namespace svgear {

// Call after the QApplication exists and before the first window is shown.
void apply_dark_theme();

}  // namespace svgear
