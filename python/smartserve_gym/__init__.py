"""Gymnasium environment over SmartLLMServe's simulated serving engine.

The environment runs ``smartserve env serve`` as a child process and speaks its JSON-lines
protocol (one request, one reply per line). Every option of ``smartserve run`` and of the
environment (``--reward``, ``--interval``, ``--episode-requests``, ``--space``) is passed through::

    import gymnasium as gym
    from smartserve_gym import SmartServeEnv

    env = SmartServeEnv(["--dataset", "dataset/bursty-500.burstgpt.csv", "--episode-requests", "200"])
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    env.close()
"""

import json
import os
import shutil
import subprocess

import gymnasium as gym
import numpy as np

__all__ = ["SmartServeEnv"]


def _default_binary():
    found = os.environ.get("SMARTSERVE") or shutil.which("smartserve")
    if found:
        return found
    here = os.path.dirname(os.path.abspath(__file__))
    for config in ("release", "debug"):
        candidate = os.path.join(here, "..", "..", ".build", config, "smartserve")
        if os.path.exists(candidate):
            return os.path.abspath(candidate)
    raise FileNotFoundError("smartserve not found: set SMARTSERVE or put it on PATH (make release)")


class SmartServeEnv(gym.Env):
    """The scheduling environment: observations are the documented 18 features, actions a discrete
    knob table (16 settings) or six continuous knobs in [-1, 1] (``--space continuous``)."""

    metadata = {"render_modes": []}

    def __init__(self, args=None, binary=None, cwd=None):
        super().__init__()
        self._proc = subprocess.Popen(
            [binary or _default_binary(), "env", "serve"] + list(args or []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1, cwd=cwd)
        spaces = self._call({"cmd": "spaces"})
        n = spaces["observation_size"]
        self.feature_names = spaces["features"]
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(n,), dtype=np.float64)
        if spaces["action_space"] == "discrete":
            self.action_space = gym.spaces.Discrete(spaces["actions"])
            self.action_meanings = spaces.get("action_meanings", [])
        else:
            dim = spaces["action_dim"]
            self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(dim,), dtype=np.float64)

    def _call(self, request):
        if self._proc is None or self._proc.poll() is not None:
            err = self._proc.stderr.read() if self._proc else ""
            raise RuntimeError("smartserve env serve is not running: " + err.strip())
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("smartserve env serve exited: " + self._proc.stderr.read().strip())
        reply = json.loads(line)
        if "error" in reply:
            raise ValueError(reply["error"])
        return reply

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(0, 2**31 - 1))
        reply = self._call({"cmd": "reset", "seed": int(seed)})
        return np.asarray(reply["observation"], dtype=np.float64), reply["info"]

    def step(self, action):
        if isinstance(self.action_space, gym.spaces.Discrete):
            payload = int(np.asarray(action).item())
        else:
            payload = [float(x) for x in np.clip(np.asarray(action, dtype=np.float64).reshape(-1), -1.0, 1.0)]
        reply = self._call({"cmd": "step", "action": payload})
        obs = np.asarray(reply["observation"], dtype=np.float64)
        return obs, float(reply["reward"]), bool(reply["terminated"]), bool(reply["truncated"]), reply["info"]

    def close(self):
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._call({"cmd": "close"})
            except Exception:
                pass
            self._proc.stdin.close()
            self._proc.wait(timeout=10)
        self._proc = None
