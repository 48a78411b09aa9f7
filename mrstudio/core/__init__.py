"""Qt-free numerical core: studies, FFT, masks, coils, metrics, phantom, jobs, device."""
