#!/usr/bin/env bash
# Regenerates the WakeWord sample's data (the .npy files and clips.tsv beside this script) from audio made on
# this machine: no recording of the wake word was available, so the "alexa" clips are synthetic speech from
# espeak-ng (formant synthesis, several voices, speeds and pitches); the other clips are real recorded speech
# (the ALSA speaker-test announcements "Front left", "Rear center"… and its pink noise, from Debian's
# alsa-utils, GPL-2) and espeak-ng phrases that are not the wake word. Deterministic (sox -D: no dither): the
# same packages give the same files.
#
# Needs: apt-get install espeak-ng sox alsa-utils; bash tests/setup.sh (the openWakeWord models).
# Usage (from the repository root): bash samples/WakeWord/Data/make_data.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install espeak-ng sox alsa-utils" >&2; exit 1; }
done
alsa=/usr/share/sounds/alsa
[ -f "$alsa/Front_Left.wav" ] || { echo "$alsa is missing: apt-get install alsa-utils" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
list="$work/clips.tsv"
: > "$list"

# name, label (1 = the wake word), 16 kHz mono 16-bit WAV.
add() { printf '%s\t%s\t%s\n' "$1" "$2" "$work/$1.wav" >> "$list"; }
speak() {
  local name="$1" label="$2" voice="$3" speed="$4" pitch="$5" text="$6"
  espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$work/raw.wav" "$text"
  sox -D "$work/raw.wav" -r 16000 -c 1 -b 16 "$work/$name.wav"
  add "$name" "$label"
}
recorded() {
  sox -D "$alsa/$2.wav" -r 16000 -c 1 -b 16 "$work/$1.wav"
  add "$1" 0
}

# The wake word, synthetic.
speak alexa_us          1 en-us           150 50 "Alexa"
speak alexa_us_f2       1 en-us+f2        140 60 "Alexa"
speak alexa_us_f4_slow  1 en-us+f4        120 70 "Alexa"
speak alexa_gb          1 en-gb           160 45 "Alexa"
speak alexa_rp_m3       1 en-gb-x-rp+m3   150 40 "Alexa"
speak alexa_029         1 en-029          150 50 "Alexa"
speak alexa_scot_fast   1 en-gb-scotland  190 50 "Alexa"
speak alexa_us_klatt    1 en-us+klatt     150 50 "Alexa"
speak alexa_us_question 1 en-us+m7        150 55 "Alexa?"
speak alexa_gb_f3       1 en-gb+f3        130 65 "Alexa"
# Not the wake word: synthetic phrases, some close to it.
speak alex_us           0 en-us           150 50 "Alex"
speak electra_gb        0 en-gb           150 50 "Electra"
speak lights_us_f2      0 en-us+f2        160 60 "Turn on the lights"
speak weather_rp        0 en-gb-x-rp      150 45 "What is the weather"
speak computer_029      0 en-029          150 50 "Hello computer"
# Not the wake word: real recorded speech and noise.
recorded front_left  Front_Left
recorded front_right Front_Right
recorded rear_center Rear_Center
recorded side_left   Side_Left
recorded pink_noise  Noise

dotnet run "$here/features.cs" -- "$list" "$here"
