"""Initial evaluation: history, posture, range of motion, pain map, palpation and the safety screen."""
