"""Video: publishing a camera, a screen or a file to the agent, and showing the agent's video.

Sources (:mod:`.file_source`, :mod:`.camera_source`, :mod:`.screen_source`) are blocking readers run in a
worker thread; :mod:`.publisher` hands their frames to an ``rtc.VideoSource`` on the event loop and
publishes the track through the Session; :mod:`.controller` keeps the configured sources published across
session restarts. The agent's video is read by :mod:`.agent_view` (only while the panel is open) and drawn
by the pure renderers (:mod:`.renderer_halfblock`, :mod:`.renderer_kitty`, :mod:`.renderer_sixel`), with
the protocol :mod:`.graphics_support` picks, at the size :mod:`.geometry` fits from the terminal's
:mod:`.cell_pixels`; :mod:`.graphics_picture` turns a frame into the escape the panel paints.
"""
