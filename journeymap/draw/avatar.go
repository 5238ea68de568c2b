package draw

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"

	xdraw "golang.org/x/image/draw"
)

// Limits on a persona picture given as a data: URI.
const (
	maxAvatarURI  = 4 << 20
	maxAvatarSide = 4096
	avatarSide    = 192 // pixels kept: enough for the PNG at 2x
)

// decodeAvatar decodes a data:image/png or data:image/jpeg URI into a square
// picture on white, or returns nil: URLs are never fetched, and a picture
// that does not decode falls back to initials.
func decodeAvatar(uri string) *avatar {
	uri = strings.TrimSpace(uri)
	if len(uri) > maxAvatarURI {
		return nil
	}
	head, data, ok := strings.Cut(uri, ",")
	if !ok {
		return nil
	}
	var decode func(r *bytes.Reader) (image.Image, error)
	switch strings.ToLower(head) {
	case "data:image/png;base64":
		decode = func(r *bytes.Reader) (image.Image, error) { return png.Decode(r) }
	case "data:image/jpeg;base64", "data:image/jpg;base64":
		decode = func(r *bytes.Reader) (image.Image, error) { return jpeg.Decode(r) }
	default:
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimRight(data, "="))
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(data, "="))
		if err != nil {
			return nil
		}
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxAvatarSide || cfg.Height > maxAvatarSide {
		return nil
	}
	src, err := decode(bytes.NewReader(raw))
	if err != nil {
		return nil
	}
	// Crop the centre square and scale it, over white.
	sb := src.Bounds()
	side := min(sb.Dx(), sb.Dy())
	crop := image.Rect(0, 0, side, side).Add(sb.Min).Add(image.Pt((sb.Dx()-side)/2, (sb.Dy()-side)/2))
	dst := image.NewRGBA(image.Rect(0, 0, avatarSide, avatarSide))
	xdraw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, xdraw.Src)
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, crop, xdraw.Over, nil)
	var buf bytes.Buffer
	if err := png.Encode(&buf, dst); err != nil {
		return nil
	}
	return &avatar{img: dst, png: buf.Bytes()}
}
