// Package sdturbo runs SD-Turbo text-to-image generation: CLIP tokenizer →
// text encoder → UNet (one Euler step from sigma 14.6146 at timestep 999) →
// VAE decoder → RGBA image, reproducing the browser library web-txt2img's
// math, including its seeded latents bit for bit.
package sdturbo
