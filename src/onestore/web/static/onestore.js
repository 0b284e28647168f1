// onestore pages work without this script; it only smooths barcode scanning.
// A scanner types the code and Enter. Selecting the search box's text on load means the
// next scan replaces the previous code instead of being appended to it.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.querySelector("input[data-scan]");
  if (box && document.activeElement === box) {
    box.select();
  }
});
