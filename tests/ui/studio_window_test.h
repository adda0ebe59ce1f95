#pragma once
// The studio's GUI tests (Qt Test). Each test function opens its own MainWindow on a random tiny
// model written once per process; ctest runs each function as its own process (ui_tests.<name>).

#include <memory>

#include <QList>
#include <QObject>
#include <QString>
#include <QTemporaryDir>
#include <QUrl>

namespace svgear {
class MainWindow;
}

namespace svgear::test {

class StudioWindowTest : public QObject {
  Q_OBJECT

 public Q_SLOTS:
  // Stands in for the file manager (QDesktopServices::setUrlHandler): the URLs opened.
  void openFileUrl(const QUrl& url) { opened_urls_ << url; }

 private Q_SLOTS:
  void initTestCase();
  void init();
  void generate_shows_preview_and_exports();
  void cancel_keeps_partial_result();
  void a_newer_model_choice_supersedes_a_load();
  void unknown_word_reports_error();
  void bad_settings_and_folders_report_errors();
  void prompt_completes_vocabulary();
  void presets_and_settings_persist();
  void routing_views_show_live_traces();
  void routing_panel_keeps_detail_within_budget();
  void routing_panel_follows_a_new_run_and_names_missing_traces();
  void block_map_shows_every_block_of_many_clusters();
  void comparison_videos_colour_the_difference_side_by_side();
  void compare_shows_dense_and_sparse_and_reuses_dense();
  void library_keeps_and_reloads_runs();
  void library_keeps_folder_names_that_are_not_utf8();
  void library_deletes_and_survives_bad_entries();
  void library_filter_finds_runs_by_words();
  void ctrl_f_reaches_the_library_filter_once_it_is_in_front();
  void token_frames_follow_the_decoder();
  void library_lists_in_the_background_and_keeps_runs_kept_meanwhile();
  void library_entry_from_the_cli_keeps_what_the_panel_hides();
  void sweep_plots_speed_against_psnr();
  void builtin_model_draws_the_prompt();
  void a_cancel_in_the_final_decode_keeps_the_last_steps_estimate();
  void wan_memory_placement_reloads_the_model();
  void device_choice_lists_this_machine_and_persists();
  void a_saved_gpu_waits_for_the_device_list();
  void first_start_finds_models_off_the_gui_thread();
  void first_start_says_why_a_wan_folder_was_passed_over();
  void rescans_and_cache_listings_coalesce();
  void first_start_keeps_the_settings_it_restores();
  void a_last_model_gone_by_the_start_gives_way_to_the_default();
  void a_failed_load_in_a_run_keeps_the_loaded_model();
  void export_writes_what_was_shown_when_asked();
  void compare_view_fits_large_frames_and_rests_when_hidden();
  void compare_views_stay_sharp_at_a_fractional_scale();
  void studio_icon_comes_in_every_size();
  void prompt_examples_fit_the_model();
  void routing_trace_opens_in_the_panel();
  void export_routing_trace_writes_what_was_shown_when_asked();
  void wan_pair_takes_a_low_noise_guidance();
  void frames_step_along_the_counts_the_model_makes();
  void a_run_without_estimates_clears_the_earlier_routing();
  void a_trace_before_any_estimate_is_not_drawn_over_the_earlier_clip();
  void a_cancelled_sweep_keeps_the_previous_points();
  void esc_on_a_queued_load_frees_the_model();
  void a_cancelled_compare_says_whether_its_dense_run_was_kept();
  void damaged_settings_keep_defaults_and_the_window_on_screen();
  void log_follows_new_lines_unless_scrolled_up();
  void a_failed_frames_export_leaves_no_folder_it_made();
  void window_fits_a_small_screen();
  void sweep_labels_of_close_points_join();
  void a_one_row_cluster_map_draws_a_strip();
  void library_drops_runs_removed_outside_the_studio();
  void library_run_whose_video_is_gone_reloads_its_settings();
  void model_picker_marks_folders_that_are_gone();
  void warmup_fraction_shows_its_step_count();
  void view_menu_brings_a_panel_behind_a_tab_forward();
  void unticked_check_boxes_are_outlined();
  void plot_points_name_their_values_on_hover();
  void a_model_with_odd_defaults_and_name_is_shown_safely();
  void typed_numbers_past_a_range_are_clamped_and_said();
  void routing_legend_wraps_to_a_narrow_dock();
  void a_zoomed_frame_pans_by_drag_and_wheel();
  void a_fitted_frame_leaves_the_caption_its_band();
  void return_in_the_prompt_generates_but_not_compares_keys();
  void log_lines_show_bidi_controls_as_codes();
  void prompts_show_bidi_controls_as_codes();
  void a_long_prompt_in_the_history_is_elided_not_scrolled();
  void closing_during_a_run_asks_first();
  void cancelling_a_long_run_asks_first();
  void the_last_compare_outlives_the_window();
  void a_kept_compare_is_checked_as_it_is_read();
  void library_failure_warns_to_export();
  void a_window_saved_on_a_screen_of_another_width_keeps_its_size();
  void a_floating_panel_comes_back_above_the_window();
  void a_restored_window_leaves_room_for_a_title_bar();
  void settings_that_cannot_be_saved_are_said();
  void history_entries_can_be_removed();
  void plot_labels_fit_a_short_axis();
  void the_step_line_names_the_first_step_while_it_runs();
  void library_labels_show_the_mode_seed_and_time_of_any_prompt();
  void tab_stops_only_on_shown_controls();
  void inspector_text_is_sharp_at_every_scale_factor();
  void studio_help_answers_without_a_display();
  void help_lists_every_shortcut_and_the_version();

 private:
  // On the tiny model, or on `folder`.
  std::unique_ptr<MainWindow> openWindow(const QString& folder = QString());
  bool waitForModel(MainWindow& window);
  void typePrompt(MainWindow& window, const QString& prompt);
  // A square clip of `side` pixels, `frames` frames and `steps` steps, in the settings.
  void setClipSize(MainWindow& window, int side, int frames, int steps);
  // A small SVG-EAR run on the tiny model: 64×64×8 (an 8×16×16 token grid), 16 query and 32 key
  // clusters, with the budget and the dense warm-up steps and layers given.
  void setSmallSvgEarRun(MainWindow& window, int steps, double top_p, double dense_warmup_steps, double dense_layers);
  void saveScreenshot(MainWindow& window, const QString& name);
  // The routing tests' first run: setSmallSvgEarRun's 2 traced SVG-EAR steps, finished, the clip
  // paused and inspected under the mouse, which stays over the preview's middle.
  void finishAnInspectedSvgEarRun(MainWindow& window);

  QTemporaryDir scratch_;
  // The library and cache folders of the function running (init()).
  std::unique_ptr<QTemporaryDir> function_library_;
  std::unique_ptr<QTemporaryDir> function_cache_;
  QString model_folder_;
  int vocabulary_size_ = 0;
  QList<QUrl> opened_urls_;
};

}  // namespace svgear::test
