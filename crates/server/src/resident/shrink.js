// The one script of the resident pages: a photo chosen in a form is shrunk in the browser to
// the contract's photo (a JPEG of at most 1600 px on its long side) before it is sent, so a
// 12-megapixel camera photo costs a resident's data plan a few hundred kilobytes, not five
// megabytes. Without this script the server takes photos that are already small enough and
// refuses the rest in words.
"use strict";
(function () {
  function shrink(file, side) {
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (img) {
      var scale = Math.min(1, side / Math.max(img.width, img.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(img.width * scale);
      canvas.height = Math.round(img.height * scale);
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      return new Promise(function (done) {
        canvas.toBlob(function (blob) {
          done(new File([blob], "photo.jpg", { type: "image/jpeg" }));
        }, "image/jpeg", 0.8);
      });
    });
  }
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-shrink]")) return;
    var side = Number(input.getAttribute("data-shrink"));
    var form = input.form;
    var button = form && form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    Promise.all(Array.prototype.map.call(input.files, function (f) { return shrink(f, side); }))
      .then(function (files) {
        var shrunk = new DataTransfer();
        files.forEach(function (f) { shrunk.items.add(f); });
        input.files = shrunk.files;
      })
      .catch(function () { /* left as chosen: the server judges it */ })
      .then(function () { if (button) button.disabled = false; });
  });
})();
